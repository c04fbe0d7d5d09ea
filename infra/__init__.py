"""AWS CDK app: one stack per environment, composed of one construct per concern."""
