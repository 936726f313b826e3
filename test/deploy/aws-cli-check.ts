// Whether AWS CLI command lines exist: service and operation in the installed botocore, every option with them.
import { execFileSync } from "node:child_process";

/**
 * The service must be in botocore's models and the operation one of its API calls (`create-vpc-endpoint` is
 * CreateVpcEndpoint), or one of the few commands the CLI adds to a service (`cloudformation deploy`). The options
 * are checked against the installed CLI's own argument table for that command, which holds the members of the
 * operation's input (a boolean also as `--no-…`), pagination and the options the CLI adds (`ec2
 * authorize-security-group-ingress --port`), plus the global options.
 */
const CHECK = `
import json, sys
import botocore.session
from botocore import xform_name
from botocore.exceptions import UnknownServiceError
from awscli.clidriver import create_clidriver

session = botocore.session.get_session()
driver = create_clidriver()
GLOBAL = set(driver._get_argument_table()) | {"no-cli-pager"}

def check(argv):
    if len(argv) < 2:
        return "no service and operation"
    service, operation = argv[0], argv[1]
    try:
        model = session.get_service_model(service)
    except UnknownServiceError:
        return "no service %s in botocore" % service
    commands = driver._get_command_table()[service]._get_command_table()
    api = {xform_name(name, "-") for name in model.operation_names}
    if operation not in api and operation not in commands:
        return "no operation %s %s in botocore, nor a command of the CLI" % (service, operation)
    allowed = set(commands[operation].arg_table) | GLOBAL
    unknown = [a[2:].split("=")[0] for a in argv[2:] if a.startswith("--") and a[2:].split("=")[0] not in allowed]
    return "%s %s has no option %s" % (service, operation, ", ".join("--" + o for o in unknown)) if unknown else None

print(json.dumps([check(argv) for argv in json.load(sys.stdin)]))
`;

/** For each argument list (the words after `aws`), `null` when the command exists, else what is wrong. */
export function checkAwsCommands(commands: string[][]): (string | null)[] {
  const output = execFileSync("python3", ["-c", CHECK], {
    input: JSON.stringify(commands),
    encoding: "utf8",
  });
  return JSON.parse(output) as (string | null)[];
}
