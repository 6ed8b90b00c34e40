"""Every write of the mlops app. Modules: snapshots, training, registry, inference, dividends, autotrain."""
