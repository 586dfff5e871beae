"""The bootstrap config is read as openmcp-bootstrapper reads it (bootstrapper.md §1.1)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.core.bot_section import BotSection, role_allows
from bot.core.config import ConfigError, LoadedConfig, load_bootstrap_config, read_bot_settings
from bot.core.problems import Problem
from bot.golang.semver import Version

FIXTURES = Path(__file__).parent.parent / "fixtures" / "bootstrapper"

MINIMAL = """\
component:
  location: ctf//github.com/openmcp-project/openmcp:v0.0.1
environment: dev
repository:
  url: https://github.com/org/landscape.git
  pushBranch: main
openmcpOperator:
  config:
    someKey: someValue
"""


def load(text: str) -> LoadedConfig:
    return load_bootstrap_config(textwrap.dedent(text), file="config.yaml")


def errors_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load(text)
    return info.value


def located(problems: list[Problem]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.message) for p in problems]


# --- the Go tool's test case, every field -----------------------------------------------------


def test_testdata_config_reads_every_field():
    loaded = load_bootstrap_config((FIXTURES / "bootstrapper-config.yaml").read_text())
    c = loaded.config
    assert loaded.warnings == []
    assert c.component.location == "<CTF>//github.com/openmcp-project/openmcp"
    assert c.component.repository == "<CTF>"
    assert c.environment == "dev"
    assert (c.repository.url, c.repository.push_branch, c.repository.pull_branch) == (
        "<ORIGIN>",
        "incoming",
        "outgoing",
    )
    assert c.repository.provider == "github"
    assert c.openmcp_operator_config == {"someKey": "someValue"}
    assert [(p.name, p.config) for p in c.providers.cluster_providers] == [
        ("test", {"verbosity": "info"})
    ]
    assert [(p.name, p.config) for p in c.providers.service_providers] == [("test", None)]
    assert [(p.name, p.config) for p in c.providers.platform_services] == [("test", None)]
    assert c.image_pull_secrets == ("imgpull-a", "imgpull-b")
    assert c.template_input == {
        "additionalKey1": "additionalValue1",
        "additionalKey2": "additionalValue2",
        "myMap": {"key1": "value1", "key2": "value2"},
        "funkyVar": "funkyValue",
    }


def test_external_secrets_are_read():
    c = load(
        MINIMAL
        + """\
externalSecrets:
  repositorySecretRef:
    name: repo-creds
  imagePullSecrets:
    - name: pull-a
    - name: pull-b
"""
    ).config
    assert c.external_secrets.repository_secret_ref == "repo-creds"
    assert c.external_secrets.image_pull_secrets == ("pull-a", "pull-b")


# --- SetDefaults ---------------------------------------------------------------------------------


def test_defaults_follow_set_defaults():
    c = load(MINIMAL).config
    assert c.component.fluxcd_template_resource_path == "gitops-templates/fluxcd"
    assert c.component.openmcp_operator_template_resource_path == "gitops-templates/openmcp"
    assert c.repository.pull_branch == "main"  # = pushBranch
    assert c.repository.provider == "generic"
    assert c.image_pull_secrets == ()
    assert c.template_input is None
    assert c.external_secrets.repository_secret_ref is None
    assert c.bot.cluster is None and c.bot.upgrade.enabled is True


def test_explicit_values_win_over_defaults():
    c = load(
        MINIMAL.replace(
            "  pushBranch: main\n",
            """\
  pushBranch: main
  pullBranch: stable
  provider: github
""",
        ).replace(
            "  location:",
            """\
  fluxcdTemplateResourcePath: templates/flux
  openmcpOperatorTemplateResourcePath: templates/openmcp
  location:""",
        )
    ).config
    assert c.repository.pull_branch == "stable"
    assert c.repository.provider == "github"
    assert c.component.fluxcd_template_resource_path == "templates/flux"
    assert c.component.openmcp_operator_template_resource_path == "templates/openmcp"


def test_empty_strings_are_defaulted_like_missing_ones():
    c = load(
        MINIMAL.replace(
            "  pushBranch: main\n", '  pushBranch: main\n  pullBranch: ""\n  provider: ""\n'
        )
    ).config
    assert (c.repository.pull_branch, c.repository.provider) == ("main", "generic")


# --- Validate: every message, with its location ----------------------------------------------


def test_empty_file_reports_every_required_field_in_go_order():
    err = errors_of("")
    assert err.phase == "validate"
    assert err.go_message == (
        "invalid config file: [environment: Required value: environment is required, "
        "component.location: Required value: component location is required, "
        "repository.url: Required value: repository url is required, "
        "repository.pullBranch: Required value: repository pull branch is required, "
        "openmcpOperator.config: Required value: openmcp operator config is required]"
    )
    # bootstrap-bot also needs the push branch: it is the landscape.
    assert [p.message for p in err.errors if p.bot_only] == [
        "repository.pushBranch: Required value: repository push branch is required "
        "(bootstrap-bot keeps the landscape in it)"
    ]


def test_three_errors_in_three_places_are_all_reported_with_line_and_column():
    err = errors_of("""\
        component:
          location: ""
        environment: dev
        repository:
          url: https://github.com/org/landscape.git
          pushBranch: main
        openmcpOperator:
          config: [not, a, map]
        providers:
          serviceProviders:
            - config: {a: 1}
    """)
    assert located(err.errors) == [
        (2, 13, "component.location: Required value: component location is required"),
        (
            8,
            11,
            'openmcpOperator.config: Invalid value: "[\\"not\\",\\"a\\",\\"map\\"]": '
            "openmcp operator config is not valid yaml",
        ),
        (
            11,
            7,
            "providers.serviceProviders[0].name: Required value: service provider name is required",
        ),
    ]
    assert str(err.errors[0]) == (
        "config.yaml:2:13: error: component.location: Required value: "
        "component location is required"
    )


@pytest.mark.parametrize(
    ("kind", "noun"),
    [
        ("clusterProviders", "cluster provider"),
        ("serviceProviders", "service provider"),
        ("platformServices", "platform service"),
    ],
)
def test_provider_messages(kind, noun):
    err = errors_of(
        MINIMAL
        + f"""\
providers:
  {kind}:
    - name: ok
    - name: ""
      config: just text
    - name: listy
      config: [1, 2.5, true]
"""
    )
    assert located(err.errors) == [
        (13, 13, f"providers.{kind}[1].name: Required value: {noun} name is required"),
        (
            14,
            15,
            f'providers.{kind}[1].config: Invalid value: "\\"just text\\"": '
            f"{noun} config is not valid yaml",
        ),
        (
            16,
            15,
            f'providers.{kind}[2].config: Invalid value: "[1,2.5,true]": '
            f"{noun} config is not valid yaml",
        ),
    ]


def test_provider_config_null_counts_as_no_config():
    c = load(
        MINIMAL + "providers:\n  clusterProviders:\n    - name: a\n      config: null\n"
    ).config
    assert c.providers.cluster_providers[0].config is None


def test_operator_config_null_is_accepted_like_go_but_warned_about():
    loaded = load(MINIMAL.replace("  config:\n    someKey: someValue\n", "  config:\n"))
    assert loaded.config.openmcp_operator_config is None
    assert [m for _, _, m in located(loaded.warnings)] == [
        "openmcpOperator.config: is null; openmcp-bootstrapper accepts that, but the templates "
        "then get no operator config"
    ]


def test_operator_config_missing_is_required():
    err = errors_of(MINIMAL.replace("openmcpOperator:\n  config:\n    someKey: someValue\n", ""))
    assert err.go_message == (
        "invalid config file: openmcpOperator.config: Required value: "
        "openmcp operator config is required"
    )


def test_operator_config_scalar_is_invalid_with_json_text_quoted():
    err = errors_of(MINIMAL.replace("  config:\n    someKey: someValue\n", "  config: 42\n"))
    assert err.go_message == (
        'invalid config file: openmcpOperator.config: Invalid value: "42": '
        "openmcp operator config is not valid yaml"
    )


def test_component_location_format_is_checked_up_front():
    err = errors_of(MINIMAL.replace("ctf//github.com", "ctf/github.com"))
    assert [p.message for p in err.errors] == [
        "component.location: invalid component location format, expected "
        "'<repo>//<component>:<version>': ctf/github.com/openmcp-project/openmcp:v0.0.1"
    ]
    assert err.errors[0].bot_only and err.go_message is None


# --- decoding: YAML 1.1, JSON round trip, case-insensitive keys -------------------------------


def test_yaml_11_booleans_and_numbers_in_string_fields_become_strings_with_a_warning():
    loaded = load(
        MINIMAL.replace("environment: dev", "environment: no").replace(
            "pushBranch: main", "pushBranch: 1.10"
        )
    )
    assert loaded.config.environment == "false"
    assert loaded.config.repository.push_branch == "1.1"
    assert located(loaded.warnings) == [
        (
            3,
            14,
            'environment: no is read as the string "false" (YAML 1.1, as '
            'openmcp-bootstrapper reads it); quote the value if you meant "no"',
        ),
        (
            6,
            15,
            'repository.pushBranch: 1.10 is read as the string "1.1" (YAML 1.1, as '
            'openmcp-bootstrapper reads it); quote the value if you meant "1.10"',
        ),
    ]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("yes", True),
        ("Yes", True),
        ("on", True),
        ("ON", True),
        ("y", True),
        ("Y", True),
        ("true", True),
        ("no", False),
        ("off", False),
        ("n", False),
        ("N", False),
        ("false", False),
        ("'yes'", "yes"),
        ('"on"', "on"),
        ("~", None),
        ("null", None),
        ("7", 7.0),
        ("1_000", 1000.0),
        ("0x1F", 31.0),
        ("017", 15.0),
        ("0o17", 15.0),
        ("0b101", 5.0),
        ("08", 8.0),
        ("1e6", 1000000.0),
        ("-.5", -0.5),
        (".inf", None),
        ("1:20", "1:20"),
        ("2024-01-02", "2024-01-02"),
        ("1.0.0", "1.0.0"),
        ("!!str 12", "12"),
        ("!!float 3", 3.0),
    ],
)
def test_free_form_values_are_yaml_11_with_json_numbers(written, value):
    text = MINIMAL + f"templateInput:\n  v: {written}\n"
    if written == ".inf":
        err = errors_of(text)
        assert [p.message for p in err.errors] == [
            "error converting YAML to JSON: json: unsupported value: +Inf"
        ]
        return
    got = load(text).config.template_input
    assert got is not None
    assert got["v"] == value and type(got["v"]) is type(value)


def test_free_form_numbers_are_float64_everywhere():
    c = load(
        MINIMAL.replace("someKey: someValue", "replicas: 3\n    ratio: 0.5")
        + """\
providers:
  clusterProviders:
    - name: a
      config: {nested: {list: [1, 2]}}
"""
    ).config
    assert c.openmcp_operator_config == {"replicas": 3.0, "ratio": 0.5}
    assert isinstance(c.openmcp_operator_config["replicas"], float)
    assert c.providers.cluster_providers[0].config == {"nested": {"list": [1.0, 2.0]}}


def test_free_form_map_keys_become_strings():
    c = load(MINIMAL + "templateInput:\n  1: int\n  true: bool\n  2.5: float\n").config
    assert c.template_input == {"1": "int", "true": "bool", "2.5": "float"}


def test_field_names_match_case_insensitively_with_a_warning():
    loaded = load(MINIMAL.replace("environment: dev", "Environment: dev"))
    assert loaded.config.environment == "dev"
    assert [m for _, _, m in located(loaded.warnings)] == [
        "environment: written as 'Environment'; openmcp-bootstrapper matches field names "
        "without regard to case, but other tools do not"
    ]


def test_unknown_keys_are_warnings_with_a_suggestion():
    loaded = load(MINIMAL + "enviroment: prod\nrepositry: {}\nfoo: 1\n")
    assert located(loaded.warnings) == [
        (
            10,
            1,
            "enviroment: unknown field, ignored by openmcp-bootstrapper; did you mean "
            "'environment'?",
        ),
        (
            11,
            1,
            "repositry: unknown field, ignored by openmcp-bootstrapper; did you mean 'repository'?",
        ),
        (12, 1, "foo: unknown field, ignored by openmcp-bootstrapper"),
    ]
    assert loaded.config.environment == "dev"


def test_unknown_nested_key_is_located():
    loaded = load(MINIMAL.replace("  pushBranch: main", "  pushBranch: main\n  pulBranch: x"))
    assert located(loaded.warnings) == [
        (
            7,
            3,
            "repository.pulBranch: unknown field, ignored by openmcp-bootstrapper; did you "
            "mean 'pullBranch'?",
        )
    ]


def test_duplicate_keys_warn_and_the_last_one_wins():
    loaded = load(MINIMAL + "environment: prod\n")
    assert loaded.config.environment == "prod"
    assert located(loaded.warnings) == [
        (10, 1, "environment: written more than once; the last one is used")
    ]


def test_merge_keys_work_like_yaml_v2():
    c = load(
        MINIMAL
        + """\
templateInput:
  base: &base {a: 1, b: 2}
  derived:
    b: 9
    <<: *base
    c: 3
"""
    ).config
    assert c.template_input is not None
    # yaml.v2 lets a merged key replace one written before the `<<`.
    assert c.template_input["derived"] == {"b": 2.0, "a": 1.0, "c": 3.0}


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        (
            "environment: {name: dev}\n",
            "json: cannot unmarshal object into Go struct field BootstrapperConfig.environment of "
            "type string",
            (1, 14),
        ),
        (
            "repository: [a]\n",
            "json: cannot unmarshal array into Go struct field "
            "BootstrapperConfig.repository of type config.DeploymentRepository",
            (1, 13),
        ),
        (
            "imagePullSecrets: one\n",
            "json: cannot unmarshal string into Go struct field "
            "BootstrapperConfig.imagePullSecrets of type []string",
            (1, 19),
        ),
        (
            "imagePullSecrets: [{name: a}]\n",
            "json: cannot unmarshal object into Go struct field "
            "BootstrapperConfig.imagePullSecrets of type string",
            (1, 20),
        ),
        (
            "templateInput: [1]\n",
            "json: cannot unmarshal array into Go struct field BootstrapperConfig.templateInput of "
            "type map[string]interface {}",
            (1, 16),
        ),
        (
            "providers:\n  clusterProviders: [{name: [x]}]\n",
            "json: cannot unmarshal array into Go struct field Provider.providers.clusterProviders."
            "name of type string",
            (2, 29),
        ),
        (
            "providers:\n  platformServices: {name: x}\n",
            "json: cannot unmarshal object into Go struct field "
            "Providers.providers.platformServices of type []config.Provider",
            (2, 21),
        ),
        (
            "externalSecrets:\n  repositorySecretRef: x\n",
            "json: cannot unmarshal string into Go struct field ExternalSecrets.externalSecrets."
            "repositorySecretRef of type meta.LocalObjectReference",
            (2, 24),
        ),
        (
            "- a list\n",
            "json: cannot unmarshal array into Go value of type config.BootstrapperConfig",
            (1, 1),
        ),
    ],
)
def test_wrong_shapes_are_read_errors_with_go_messages(text, message, where):
    err = errors_of(text)
    assert err.phase == "read"
    (problem,) = err.errors
    assert (problem.line, problem.column) == where
    assert problem.detail == f"openmcp-bootstrapper: {message}"  # Go's words, folded
    assert ": expected " in problem.message and ", got " in problem.message  # the operator's
    assert err.go_message == f"failed to read config file: error unmarshaling JSON: {message}"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("environment: {name: dev}\n", "environment: expected a string, got a map"),
        ("imagePullSecrets: one\n", "imagePullSecrets: expected a list of strings, got a string"),
        (
            "providers:\n  platformServices: {name: x}\n",
            "providers.platformServices: expected a list of maps with name, config, got a map",
        ),
        ("- a list\n", "the config: expected a map with component, repository, "),
    ],
)
def test_a_wrong_shape_is_said_in_the_operator_s_words(text, said):
    (problem,) = errors_of(text).errors
    assert problem.message.startswith(said)


def test_every_wrong_shape_is_reported_not_just_the_first():
    err = errors_of("environment: [dev]\ncomponent: 1\nrepository: {url: {}}\n")
    assert [(p.line, p.column) for p in err.errors] == [(1, 14), (2, 12), (3, 19)]


def test_yaml_syntax_error_is_located():
    err = errors_of("environment: dev\nrepository: [a\nfoo: bar\n")
    assert err.phase == "read"
    assert len(err.errors) == 1
    assert (err.errors[0].line, err.errors[0].column) == (3, 4)
    assert err.errors[0].message.startswith("error converting YAML to JSON: yaml: line 3:")


def test_only_the_first_document_counts():
    c = load(MINIMAL + "---\nenvironment: [this, is, ignored\n").config
    assert c.environment == "dev"


def test_a_null_value_keeps_the_zero_value():
    err = errors_of(MINIMAL.replace("environment: dev", "environment:"))
    assert [p.message for p in err.errors] == [
        "environment: Required value: environment is required"
    ]
    assert (err.errors[0].line, err.errors[0].column) == (3, 13)


# --- the bot: section, strict --------------------------------------------------------------------


def test_bot_section_is_read():
    c = load(
        MINIMAL
        + """\
bot:
  cluster: prod-eu
  upgrade:
    enabled: false
    constraint: ">= 0.19, < 1.0"
    allowPrereleases: true
    ignoredVersions: [v0.20.0, "0.21"]
"""
    ).config
    assert c.bot.cluster == "prod-eu"
    policy = c.bot.upgrade
    assert (policy.enabled, policy.allow_prereleases) == (False, True)
    assert policy.constraint is not None and policy.constraint.allows(Version.parse("v0.19.4"))
    assert not policy.constraint.allows(Version.parse("v1.0.0"))
    assert policy.ignored_versions == (Version.parse("v0.20.0"), Version.parse("0.21.0"))
    assert c.bot.command_permission == "write"


def test_the_command_permission_is_a_github_role():
    c = load(MINIMAL + "bot:\n  commandPermission: maintain\n").config
    assert c.bot.command_permission == "maintain"
    err = errors_of(MINIMAL + "bot:\n  commandPermission: writer\n")
    assert located(err.errors) == [
        (
            11,
            22,
            "bot.commandPermission: must be one of read, triage, write, maintain, admin; "
            "did you mean 'write'?",
        )
    ]


@pytest.mark.parametrize(
    ("role", "minimum", "allowed"),
    [
        ("admin", "write", True),
        ("maintain", "write", True),
        ("write", "write", True),
        ("triage", "write", False),
        ("read", "read", True),
        ("none", "read", False),
        ("owner", "read", False),
    ],
)
def test_role_allows(role, minimum, allowed):
    assert role_allows(role, minimum) is allowed


def test_bot_section_is_strict_and_every_problem_is_located():
    err = errors_of(
        MINIMAL
        + """\
bot:
  cluster: 7
  upgrade:
    enabled: "yes"
    constraint: ">= banana"
    allowPrerelease: true
    ignoredVersions: [1.10, not-a-version]
  clustr: x
"""
    )
    assert located(err.errors) == [
        (11, 12, "bot.cluster: must be a non-empty string naming a cluster"),
        (13, 14, 'bot.upgrade.enabled: must be true or false, not the string "yes"'),
        (14, 17, "bot.upgrade.constraint: 'banana' is not a version"),
        (
            15,
            5,
            "bot.upgrade.allowPrerelease: unknown field (known: allowPrereleases, "
            "constraint, enabled, ignoredVersions); did you mean 'allowPrereleases'?",
        ),
        (
            16,
            23,
            "bot.upgrade.ignoredVersions[0]: must be a version string, not the number "
            "1.1; quote it",
        ),
        (16, 29, "bot.upgrade.ignoredVersions[1]: 'not-a-version' is not a semantic version"),
        (
            17,
            3,
            "bot.clustr: unknown field (known: cluster, commandPermission, eso, mirror, upgrade); "
            "did you mean 'cluster'?",
        ),
    ]
    assert all(p.bot_only for p in err.errors)
    assert err.go_message is None  # the Go tool ignores the bot section


def test_bot_section_errors_come_together_with_validation_errors():
    err = errors_of(MINIMAL.replace("environment: dev\n", "") + "bot: [x]\n")
    assert [p.message for p in err.errors] == [
        "environment: Required value: environment is required",
        "bot: must be a mapping, not a list",
    ]


def test_the_bot_settings_alone_are_read_even_from_an_invalid_config():
    broken = MINIMAL.replace("environment: dev\n", "") + "bot:\n  commandPermission: admin\n"
    with pytest.raises(ConfigError):
        load(broken)
    section = read_bot_settings(broken)
    assert section is not None and section.command_permission == "admin"
    assert read_bot_settings(MINIMAL) == BotSection()
    # Errors in the section itself, or a file that is not YAML: None, so callers fail closed.
    assert read_bot_settings(MINIMAL + "bot:\n  commandPermision: read\n") is None
    assert read_bot_settings("repository: [a\n") is None
