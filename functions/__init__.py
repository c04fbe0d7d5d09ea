"""One package per Lambda function: ``handler`` (wiring), ``logic`` (the use case), ``env`` (its settings)."""
