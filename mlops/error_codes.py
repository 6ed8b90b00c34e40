"""ML operations' error codes: snapshots, training runs, the model registry.

Codes shared with a lower app live there (coop.error_codes.CoopErrorCode).
"""

from enum import StrEnum


class MlopsErrorCode(StrEnum):
    BELOW_MIN_ACCURACY = "below_min_accuracy"
    EMPTY_SNAPSHOT = "empty_snapshot"
    IMAGE_TOO_LARGE = "image_too_large"
    IMMUTABLE = "immutable"
    INVALID_CONFIG = "invalid_config"
    INVALID_IMAGE = "invalid_image"
    MODEL_RETIRED = "model_retired"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    NOT_ENTITLED = "not_entitled"
    NOT_MEMBER = "not_member"
    NOT_OCR = "not_ocr"
    NO_COMPARABLE_BASELINE = "no_comparable_baseline"
    NO_GROUND_TRUTH = "no_ground_truth"
    NO_IMAGES = "no_images"
    NO_PROMOTED_MODEL = "no_promoted_model"
    NO_TEST_ACCURACY = "no_test_accuracy"
    NO_TRAINING_DATA = "no_training_data"
    REGRESSION = "regression"
    RIGHTS_REVOKED = "rights_revoked"
    RUN_ACTIVE = "run_active"
    RUN_FINISHED = "run_finished"
    TOO_MANY_IMAGES = "too_many_images"
    TRAINING_SUMMARY_UNAVAILABLE = "training_summary_unavailable"
    VERSION_RACE = "version_race"
