"""Downloads go out in blocks of about 64 KiB, not one chunk per row, and the first row is never held back."""

from coop.exports import in_blocks


def test_blocks_keep_every_byte_in_order_and_send_the_first_piece_alone():
    lines = [f"row {i}\n" for i in range(10_000)]
    blocks = list(in_blocks(iter(lines), size=1000))
    assert "".join(blocks) == "".join(lines)
    assert blocks[0] == lines[0]
    assert all(len(block) >= 1000 for block in blocks[1:-1]) and len(blocks) < len(lines) / 50


def test_an_empty_or_one_row_download_is_unchanged():
    assert list(in_blocks(iter([]))) == []
    assert list(in_blocks(iter(["only\n"]))) == ["only\n"]
