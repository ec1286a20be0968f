"""The support package of lightning-classics: run folders and resume (``runs``), callbacks, plots, reading users'
images (``images``) and inference (export, serving). The project's models live beside it in ``lightning_modules``,
``datamodules`` and ``rl``; ``tests/test_import_layers.py`` asserts which way the imports run. It imports nothing."""
