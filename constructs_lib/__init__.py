"""cdktf constructs for the serverless stack."""
