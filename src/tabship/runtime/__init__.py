"""How a registered model version is run: ONNX Runtime where the exported graph matches the
native model, the native model otherwise. Training checks the export with it; serving
loads versions with it. It depends on neither."""
