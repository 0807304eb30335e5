"""Reusable cdktf constructs for a serverless AWS stack.

Depends only on cdktf, the AWS provider bindings and itself: every name, size and switch comes
in through a construct's props.
"""

from constructs_lib import framework

# Before any module of the library imports cdktf's names (constructs_lib/framework.py).
framework.install()
