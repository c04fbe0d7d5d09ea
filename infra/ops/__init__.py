"""The operator's tools behind ``crossdock``: find a deployment's resources, then work its DLQs, archive and orders."""
