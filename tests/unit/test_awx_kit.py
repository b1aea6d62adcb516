# Copyright: kafkaops.platform contributors
# Apache-2.0 (see LICENSE)
"""The AWX kit in docs/awx/ against the code it describes.

- the credential type injects exactly the ``KAFKA_*`` variables the modules read
  (``connection.ENVIRONMENT``), each from the input of the same name, and hides exactly the secrets;
  a credential as AWX would inject it (rendered here the way AWX renders injectors) gives the
  modules' connection code the settings the fields say;
- there is one job template per operation playbook, and every survey variable is one that the
  playbook, the task files and playbooks it pulls in, or the argument specs of the roles it runs read;
- the execution environment definition builds a context with ``ansible-builder create`` holding the
  collection, its dependencies and its Python requirements.
"""
import pathlib
import re
import shutil
import subprocess
import sys
import types
import warnings

import pytest
import yaml
from jinja2 import meta, nodes
from jinja2.exceptions import TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.kafkaops.platform.plugins.module_utils import connection

ROOT = pathlib.Path(__file__).resolve().parents[2]
KIT = ROOT / "docs" / "awx"
PLAYBOOKS = ROOT / "playbooks"
ROLES = ROOT / "roles"
COLLECTION = "kafkaops.platform."
JINJA = ImmutableSandboxedEnvironment()
# keys whose value Ansible reads as a bare expression
CONDITIONALS = ("when", "that", "until", "failed_when", "changed_when")
SURVEY_TYPES = ("text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect")


def _load(path):
    return yaml.safe_load(path.read_text())


def _argument_specs(role):
    path = ROLES / role / "meta" / "argument_specs.yml"
    return _load(path)["argument_specs"] if path.is_file() else {}


CREDENTIAL_TYPE = _load(KIT / "credential_type.yml")
INPUTS = {field["id"]: field for field in CREDENTIAL_TYPE["inputs"]["fields"]}
INJECTORS = CREDENTIAL_TYPE["injectors"]
PLATFORM_OPTIONS = _argument_specs("platform")["main"]["options"]


def _parse(template):
    with warnings.catch_warnings():
        # a backslash in a Jinja string literal of a playbook (a regular expression) is not our concern here
        warnings.simplefilter("ignore", DeprecationWarning)
        return JINJA.parse(template)


def _names(template):
    """The variables a template reads."""
    return meta.find_undeclared_variables(_parse(template))


def _tower_files(template):
    """The file labels a template names as ``tower.filename.<label>``."""
    return {node.attr for node in _parse(template).find_all(nodes.Getattr)
            if isinstance(node.node, nodes.Getattr) and node.node.attr == "filename"
            and isinstance(node.node.node, nodes.Name) and node.node.node.name == "tower"}


def _templates():
    """(where, template) for every injector."""
    for section in ("file", "env", "extra_vars"):
        for key, template in INJECTORS.get(section, {}).items():
            yield "%s.%s" % (section, key), template


# ---------------------------------------------------------------------------------------------
# the credential type


def test_the_env_injectors_are_exactly_the_variables_the_modules_read():
    assert set(INJECTORS["env"]) == set(connection.ENVIRONMENT.values())


@pytest.mark.parametrize("option", sorted(connection.ENVIRONMENT))
def test_each_variable_comes_from_the_input_of_its_option(option):
    """KAFKA_SASL_USERNAME from sasl_username, and so on: one input per module option, same name."""
    template = INJECTORS["env"][connection.ENVIRONMENT[option]]
    assert option in INPUTS
    assert option in _names(template)


@pytest.mark.parametrize("where,template", list(_templates()), ids=[where for where, _template in _templates()])
def test_every_injector_reads_declared_inputs_only(where, template):
    files = {label.split(".", 1)[1] for label in INJECTORS.get("file", {})}
    assert _names(template) - {"tower"} <= set(INPUTS), where
    assert _tower_files(template) <= files, where
    assert _names(template) - {"tower"}, "%s reads no input" % where


def test_every_input_is_injected_somewhere():
    used = set().union(*(_names(template) for _where, template in _templates()))
    assert set(INPUTS) - used == set()


def test_the_file_labels_are_the_pem_options():
    """The modules take a path or PEM text for these three; the kit hands them over as files."""
    assert set(INJECTORS["file"]) == {"template.ssl_ca", "template.ssl_cert", "template.ssl_key"}


def test_choices_are_the_ones_the_modules_accept():
    assert INPUTS["security_protocol"]["choices"] == list(connection.PROTOCOLS)
    assert INPUTS["sasl_mechanism"]["choices"] == list(connection.MECHANISMS)
    # a boolean field would always inject "False" (AWX defaults a missing boolean to false), which
    # turns hostname checks off and is refused on a plaintext connection
    assert all(field["type"] == "string" for field in INPUTS.values())


def test_the_extra_vars_are_the_platform_roles_ca_variables():
    extra = INJECTORS["extra_vars"]
    assert {"platform_tls_ca_certificate", "platform_tls_ca_key"} <= set(extra)
    assert set(extra) <= set(PLATFORM_OPTIONS)


def test_secret_inputs_are_exactly_the_secrets():
    """The module options marked no_log, and the inputs that feed a no_log variable of the roles."""
    fed_secret_variables = set()
    for variable, template in INJECTORS["extra_vars"].items():
        if PLATFORM_OPTIONS[variable].get("no_log"):
            fed_secret_variables |= _names(template)
    expected = set(connection.SECRET_OPTIONS) | fed_secret_variables
    secret = {name for name, field in INPUTS.items() if field.get("secret")}
    assert secret == expected
    assert secret == {"sasl_password", "ssl_key", "ssl_key_password", "ca_key", "ca_passphrase"}


def test_pem_inputs_are_multiline():
    assert {name for name, field in INPUTS.items() if field.get("multiline")} == {
        "ssl_ca", "ssl_cert", "ssl_key", "ca_certificate", "ca_key"}


def _inject(values, folder):
    """What an AWX job gets from a credential with ``values``, rendered the way AWX renders injectors:
    a field left empty is not in the template namespace, each file template is written to a private
    file whose path is ``tower.filename.<label>``, every env and extra_vars template is rendered."""
    namespace = {name: value for name, value in values.items() if value}
    files = {}
    for label, template in INJECTORS.get("file", {}).items():
        path = folder / label.split(".", 1)[1]
        path.write_text(JINJA.from_string(template).render(**namespace))
        files[label.split(".", 1)[1]] = str(path)
    namespace["tower"] = types.SimpleNamespace(filename=types.SimpleNamespace(**files))

    def render(section):
        return {key: JINJA.from_string(template).render(**namespace) for key, template in INJECTORS[section].items()}

    return render("env"), render("extra_vars")


def _client_settings(environ):
    """kafka-python's settings for a module task that gives no connection option of its own."""
    options = connection.resolve_options({}, environ)

    def no_inline_pem(option, text):
        raise AssertionError("%s reached the module as PEM text, not as the file AWX wrote" % option)

    return options, connection.client_settings(options, None, no_inline_pem)


def test_an_empty_credential_sets_nothing(tmp_path):
    env, extra = _inject({}, tmp_path)
    assert set(env.values()) == {""}
    assert connection.resolve_options({}, env, require_bootstrap=False) == dict(
        {option: None for option in connection.ENVIRONMENT}, request_timeout=connection.DEFAULT_REQUEST_TIMEOUT)
    # the roles read empty CA variables as "no CA handed over"
    assert set(extra.values()) == {""}


def test_bootstrap_servers_alone_give_a_plaintext_connection(tmp_path):
    env, _files = _inject({"bootstrap_servers": "kb1.example.com:9092,kb2.example.com:9092"}, tmp_path)
    options, settings = _client_settings(env)
    assert options["bootstrap_servers"] == ["kb1.example.com:9092", "kb2.example.com:9092"]
    assert settings == {"security_protocol": "PLAINTEXT"}


def test_a_full_credential_reaches_kafka_python(tmp_path):
    pem = {name: "-----BEGIN %s-----\nMIIfake%s\n-----END %s-----\n" % (kind, name, kind)
           for name, kind in (("ssl_ca", "CERTIFICATE"), ("ssl_cert", "CERTIFICATE"), ("ssl_key", "PRIVATE KEY"),
                              ("ca_certificate", "CERTIFICATE"), ("ca_key", "PRIVATE KEY"))}
    env, extra = _inject(dict(pem, bootstrap_servers="kb1.example.com:9093", security_protocol="SASL_SSL",
                              sasl_mechanism="SCRAM-SHA-512", sasl_username="awx", sasl_password="s3cret",
                              ssl_key_password="k3y", ssl_check_hostname="false", request_timeout="45",
                              ca_passphrase="pass"), tmp_path)
    options, settings = _client_settings(env)
    assert options["request_timeout"] == 45
    files = {key: pathlib.Path(settings.pop(key)).read_text() for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile")}
    assert files == {"ssl_cafile": pem["ssl_ca"], "ssl_certfile": pem["ssl_cert"], "ssl_keyfile": pem["ssl_key"]}
    assert settings == {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "awx",
                        "sasl_plain_password": "s3cret", "ssl_password": "k3y", "ssl_check_hostname": False}
    assert extra == {"platform_tls_ca_certificate": pem["ca_certificate"], "platform_tls_ca_key": pem["ca_key"],
                     "platform_tls_ca_passphrase": "pass"}


def test_a_sasl_credential_without_tls_fields_stays_off_tls(tmp_path):
    """An unfilled PEM field must not name its (empty) file: that would turn TLS on."""
    env, _files = _inject({"bootstrap_servers": "kb1.example.com:9092", "sasl_mechanism": "PLAIN",
                           "sasl_username": "awx", "sasl_password": "s3cret"}, tmp_path)
    assert env["KAFKA_SSL_CA"] == env["KAFKA_SSL_CERT"] == env["KAFKA_SSL_KEY"] == ""
    _options, settings = _client_settings(env)
    assert settings["security_protocol"] == "SASL_PLAINTEXT"


# ---------------------------------------------------------------------------------------------
# which variables a playbook reads


def _expressions(value, key=None):
    """Every Jinja text in a loaded YAML value, bare conditionals wrapped in braces."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from _expressions(child, child_key)
    elif isinstance(value, list):
        for child in value:
            yield from _expressions(child, key)
    elif isinstance(value, str):
        if key in CONDITIONALS and "{{" not in value:
            yield "{{ %s }}" % value
        elif "{{" in value or "{%" in value:
            yield value


def _template_names(text):
    try:
        return set(_names(text))
    except TemplateSyntaxError:
        # keep what is between the braces, so prose around an odd expression adds nothing
        return set(re.findall(r"[A-Za-z_]\w*", " ".join(re.findall(r"{{(.*?)}}", text, re.S))))


def _action(task, *names):
    """The argument of the first of ``names`` (short or FQCN) the task uses, or None."""
    for name in names:
        for key in (name, "ansible.builtin." + name):
            if key in task:
                return task[key]
    return None


def _role_entry(reference, tasks_from=None):
    role = str(reference)
    role = role[len(COLLECTION):] if role.startswith(COLLECTION) else role
    return role, pathlib.PurePath(tasks_from).stem if tasks_from else "main"


def _walk(value, found, path):
    """Collect names read, files pulled in and role entry points used anywhere under ``value``."""
    if isinstance(value, list):
        for item in value:
            _walk(item, found, path)
        return
    if not isinstance(value, dict):
        return
    imported = _action(value, "import_playbook")
    if isinstance(imported, str):
        found["files"].append(PLAYBOOKS / (imported[len(COLLECTION):] + ".yml") if imported.startswith(COLLECTION)
                              else path.parent / imported)
    included = _action(value, "include_tasks", "import_tasks")
    if included is not None:
        target = included.get("file") if isinstance(included, dict) else included
        found["files"].append(path.parent / target)
    role = _action(value, "include_role", "import_role")
    if isinstance(role, dict):
        found["roles"].add(_role_entry(role["name"], role.get("tasks_from")))
    for entry in value.get("roles", []) if isinstance(value.get("roles"), list) else []:
        found["roles"].add(_role_entry(entry.get("role", entry.get("name")) if isinstance(entry, dict) else entry))
    for child in value.values():
        _walk(child, found, path)


def _read_by(playbook):
    """Variables a playbook reads: in its own Jinja and conditionals, in the task files and playbooks it
    pulls in (recursively), and the options of the role entry points it runs (their argument specs)."""
    names, options, seen = set(), {}, set()
    queue = [(ROOT / playbook).resolve()]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        data = _load(path)
        found = {"files": [], "roles": set()}
        _walk(data, found, path)
        queue.extend(target.resolve() for target in found["files"])
        for text in _expressions(data):
            names |= _template_names(text)
        for role, entry in found["roles"]:
            options.update(_argument_specs(role).get(entry, {}).get("options") or {})
    return names | set(options), options


CONFIGURATION = _load(KIT / "configuration.yml")
JOB_TEMPLATES = CONFIGURATION[0]["vars"]["awx_job_templates"]
OPERATION_PLAYBOOKS = sorted("playbooks/" + path.name for path in PLAYBOOKS.glob("*.yml"))


def test_the_lookup_tells_playbooks_apart():
    """The check below means something: a playbook's variables are not every variable."""
    smoke, _smoke_files = _read_by("playbooks/smoke_test.yml")
    rebalance, options = _read_by("playbooks/rebalance.yml")
    scale_out, _scale_out_files = _read_by("playbooks/scale_out.yml")
    assert "smoke_test_messages" in smoke and "decommission_broker" not in smoke
    assert "platform_rebalance_throttle" in rebalance and "platform_rebalance_throttle" not in smoke
    assert "platform_rebalance_timeout" in options
    assert "platform_rebalance_max_moves_per_broker" in scale_out  # through the imported rebalance.yml
    assert "upgrade_finalize" not in scale_out and "no_such_variable" not in scale_out


def test_the_job_template_task_takes_each_entry_as_it_is():
    (task,) = [task for task in CONFIGURATION[0]["tasks"] if "awx.awx.job_template" in task]
    args = task["awx.awx.job_template"]
    assert task["loop"] == "{{ awx_job_templates }}"
    assert args["playbook"] == "{{ item.playbook }}"
    assert args["survey_enabled"] is True
    assert args["survey_spec"]["spec"] == "{{ item.survey }}"
    assert args["job_slice_count"] == 1 and args["allow_simultaneous"] is False


def test_one_job_template_per_operation_playbook():
    playbooks = [template["playbook"] for template in JOB_TEMPLATES]
    assert sorted(playbooks) == OPERATION_PLAYBOOKS
    assert len(set(template["name"] for template in JOB_TEMPLATES)) == len(JOB_TEMPLATES)
    assert {"playbooks/site.yml", "playbooks/upgrade.yml", "playbooks/rotate_ca.yml"} <= set(playbooks)


@pytest.mark.parametrize("template", JOB_TEMPLATES, ids=[template["playbook"] for template in JOB_TEMPLATES])
def test_survey_variables_are_read_by_the_playbook(template):
    read, options = _read_by(template["playbook"])
    survey = template["survey"]
    assert survey, "a survey without questions"
    variables = [question["variable"] for question in survey]
    assert len(set(variables)) == len(variables)
    assert [variable for variable in variables if variable not in read] == []
    for question in survey:
        assert question["type"] in SURVEY_TYPES, question
        assert question["question_name"] and isinstance(question["required"], bool), question
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"], question
        if question["type"] == "integer" and "default" in question:
            assert question["min"] <= question["default"] <= question["max"], question
        documented = options.get(question["variable"], {})
        if "default" in question and documented.get("default") is not None:
            assert question["default"] == documented["default"], "survey default differs from the role's: %s" % question


def test_rotate_ca_runs_without_the_ca_of_the_credential():
    """rotate_ca.yml writes platform_tls_ca_key into the new CA directory when it is set, and extra
    variables from a credential beat the playbook's own: the rotation would keep the old CA."""
    (rotate,) = [template for template in JOB_TEMPLATES if template["playbook"] == "playbooks/rotate_ca.yml"]
    assert rotate.get("kafka_credential") is False
    assert all(template.get("kafka_credential", True) for template in JOB_TEMPLATES if template is not rotate)


def test_the_configuration_passes_a_syntax_check():
    """awx.awx comes with the ansible package that requirements-dev.txt pins."""
    playbook = shutil.which("ansible-playbook", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ansible-playbook")
    assert playbook, "ansible-playbook not found"
    result = subprocess.run([playbook, "--syntax-check", "-i", "localhost,", str(KIT / "configuration.yml")],
                            cwd=str(ROOT), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------------------------------------
# the execution environment


def _requirement_lines(path):
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("-")]


EE = _load(KIT / "execution-environment.yml")
GALAXY = _load(ROOT / "galaxy.yml")


def test_the_galaxy_requirements_are_the_collection_and_its_dependencies():
    assert EE["version"] == 3
    assert (KIT / EE["dependencies"]["galaxy"]).is_file()
    wanted = dict(GALAXY["dependencies"], **{"%s.%s" % (GALAXY["namespace"], GALAXY["name"]): GALAXY["version"]})
    listed = {entry["name"]: entry["version"] for entry in _load(KIT / EE["dependencies"]["galaxy"])["collections"]}
    assert listed == wanted


def test_the_python_requirements_are_the_collections():
    assert EE["dependencies"]["python"] == _requirement_lines(ROOT / "requirements.txt")


def test_ansible_core_in_the_image_is_one_the_collection_supports():
    requires = _load(ROOT / "meta" / "runtime.yml")["requires_ansible"]
    assert requires in EE["dependencies"]["ansible_core"]["package_pip"]


def test_the_image_needs_no_java():
    """Kafka's tools run on the Kafka hosts; the control node only runs Python."""
    assert [line for line in EE["dependencies"]["system"] if re.search(r"java|jdk|jre", line)] == []


def test_ansible_builder_is_pinned_for_the_tests():
    assert re.search(r"^ansible-builder==\d+\.\d+\.\d+$", (ROOT / "requirements-dev.txt").read_text(), re.M)


def test_ansible_builder_creates_the_build_context(tmp_path):
    builder = shutil.which("ansible-builder", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("ansible-builder")
    assert builder, "ansible-builder is missing: it is pinned in requirements-dev.txt (make bootstrap installs it)"
    context = tmp_path / "context"
    result = subprocess.run([builder, "create", "-f", str(KIT / "execution-environment.yml"), "--context", str(context)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect" in containerfile and "--user-pip=requirements.txt" in containerfile
    assert _load(context / "_build" / "requirements.yml") == _load(KIT / "requirements.yml")
    assert _requirement_lines(context / "_build" / "requirements.txt") == _requirement_lines(ROOT / "requirements.txt")
    assert (context / "_build" / "bindep.txt").read_text().splitlines() == EE["dependencies"]["system"]


# ---------------------------------------------------------------------------------------------
# the prose


def _readme():
    return (KIT / "README.md").read_text()


def test_the_readme_names_only_variables_that_exist():
    """Every role, playbook or module variable the README names in backticks is one the code knows."""
    code = "\n".join(path.read_text() for folder in ("roles", "playbooks", "plugins", "inventories")
                     for path in (ROOT / folder).rglob("*") if path.suffix in (".yml", ".py"))
    prefixes = ("platform_", "kafka_", "zookeeper_", "rotate_ca_", "upgrade_", "smoke_test_", "decommission_",
                "schema_registry", "ksqldb", "KAFKA_")
    named = {token for token in re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", _readme()) if token.startswith(prefixes)}
    assert named, "the README names no variable"
    assert sorted(token for token in named if not re.search(r"\b%s\b" % token, code)) == []


def test_the_readme_covers_every_job_template_and_is_linked():
    readme = _readme()
    assert [template["playbook"] for template in JOB_TEMPLATES if template["playbook"].split("/")[1] not in readme] == []
    assert "docs/awx/README.md" in (ROOT / "README.md").read_text()
