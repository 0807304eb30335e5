"""cdktf constructs for the serverless stack.

Importing this package first makes every later `from cdktf_cdktf_provider_aws.<x> import Y`
load only that submodule instead of all ~2,200 (see `provider_loader`; opt out with
CDKTF_FULL_PROVIDER_IMPORT=1).
"""

from constructs_lib import provider_loader

provider_loader.install()
