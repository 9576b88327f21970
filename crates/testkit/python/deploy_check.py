"""Checks of deploy/ (crates/census/tests/deploy.rs). Prints one JSON object.

  deploy_check.py kubernetes DIR [--shards N]
      Renders the Kustomize base DIR (with shards.yaml's count set to N, in a copy,
      when given) with the subset of kustomize this base uses, validates every object
      against the Kubernetes schemas (kubernetes-validate, strict), and, when a kubectl
      with kustomize is on PATH, checks that its rendering is the same. Prints the
      objects and what was checked.
  deploy_check.py kubernetes-reject FILE
      Validates one YAML document: prints {"errors": [...]} (the control of the above).
  deploy_check.py batch TEMPLATE
      With boto3 pointed at moto (AWS_ENDPOINT_URL): makes a VPC, subnet, security
      group and the PostgreSQL URL secret, creates the CloudFormation stack and prints
      what Batch, EventBridge and IAM then hold.
"""

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

K8S_VERSION = "1.33.0"

# Keys of a kustomization.yaml this renderer implements; any other is an error, so a
# feature added to the base cannot be silently skipped here.
KNOWN_KEYS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator",
              "images", "replacements"}


def load_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def split_path(path):
    """`a.b.[name=x].c.[=v]` -> ['a', 'b', '[name=x]', 'c', '[=v]']."""
    return re.findall(r"\[[^\]]*\]|[^.\[\]]+", path)


def walk(node, segments, create=False):
    """The parent and key of the node at segments (for setting it)."""
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg.startswith("["):
            key, _, value = seg[1:-1].partition("=")
            if not isinstance(node, list):
                raise SystemExit(f"{seg}: not a list")
            matches = [j for j, item in enumerate(node)
                       if (item == value if key == "" else
                           isinstance(item, dict) and item.get(key) == value)]
            if len(matches) != 1:
                raise SystemExit(f"{seg}: {len(matches)} matches in {node!r}")
            if last:
                return node, matches[0]
            node = node[matches[0]]
        else:
            if last:
                return node, seg
            if seg not in node:
                raise SystemExit(f"{seg}: missing")
            node = node[seg]
    raise SystemExit("empty field path")


def render(base):
    kust_path = os.path.join(base, "kustomization.yaml")
    kust = load_docs(kust_path)[0]
    unknown = set(kust) - KNOWN_KEYS
    if unknown:
        raise SystemExit(f"{kust_path}: keys this renderer does not implement: {sorted(unknown)}")
    objects = []
    for res in kust.get("resources", []):
        objects.extend(load_docs(os.path.join(base, res)))
    for gen in kust.get("configMapGenerator", []):
        if not gen.get("options", {}).get("disableNameSuffixHash"):
            raise SystemExit("configMapGenerator: only disableNameSuffixHash: true is implemented")
        data = {}
        for f in gen["files"]:
            with open(os.path.join(base, f)) as fh:
                data[os.path.basename(f)] = fh.read()
        objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": gen["name"]}, "data": data})
    ns = kust.get("namespace")
    if ns:
        for o in objects:
            if o["kind"] != "Namespace":
                o["metadata"]["namespace"] = ns
    for img in kust.get("images", []):
        for o in objects:
            for c in containers(o):
                name = c["image"].split(":")[0]
                if name == img["name"]:
                    name = img.get("newName", name)
                    tag = img.get("newTag", c["image"].partition(":")[2])
                    c["image"] = f"{name}:{tag}" if tag else name
    for rep in kust.get("replacements", []):
        src = rep["source"]
        [so] = [o for o in objects if o["kind"] == src["kind"]
                and o["metadata"]["name"] == src["name"]]
        parent, key = walk(so, split_path(src["fieldPath"]))
        value = parent[key]
        for t in rep["targets"]:
            sel = t["select"]
            matched = [o for o in objects if o["kind"] == sel["kind"]
                       and o["metadata"]["name"] == sel["name"]]
            if not matched:
                raise SystemExit(f"replacement target {sel} matches nothing")
            for o in matched:
                for fp in t["fieldPaths"]:
                    parent, key = walk(o, split_path(fp))
                    opts = t.get("options", {})
                    if "delimiter" in opts:
                        parts = parent[key].split(opts["delimiter"])
                        parts[opts["index"]] = str(value)
                        parent[key] = opts["delimiter"].join(parts)
                    else:
                        parent[key] = copy.deepcopy(value)
    return [o for o in objects
            if o["metadata"].get("annotations", {}).get(
                "config.kubernetes.io/local-config") != "true"]


def containers(o):
    spec = o.get("spec", {})
    if o["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec.get("template", {}).get("spec", {}).get("containers", [])


def key(o):
    return (o["kind"], o["metadata"]["name"])


def validate(obj):
    import kubernetes_validate
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
        return None
    except kubernetes_validate.ValidationError as e:
        return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}: {e.message} at {list(e.path)}"
    except Exception as e:  # schema missing etc.: a failure too
        return f"{obj.get('kind')}: {type(e).__name__}: {e}"


def kubectl_render(base):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    out = subprocess.run([kubectl, "kustomize", base], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"kubectl kustomize {base} failed:\n{out.stderr}")
    return [d for d in yaml.safe_load_all(out.stdout) if d is not None]


def cmd_kubernetes(base, shards):
    with tempfile.TemporaryDirectory() as tmp:
        work = os.path.join(tmp, "base")
        shutil.copytree(base, work)
        if shards is not None:
            path = os.path.join(work, "shards.yaml")
            text = open(path).read()
            new, n = re.subn(r"(?m)^(\s*shards:\s*)\d+\s*$", rf"\g<1>{shards}", text)
            if n != 1:
                raise SystemExit(f"{path}: expected one 'shards: N' line, found {n}")
            open(path, "w").write(new)
        objects = render(work)
        errors = [e for e in (validate(o) for o in objects) if e]
        kubectl = kubectl_render(work)
        same = None
        if kubectl is not None:
            canon = lambda objs: sorted(json.dumps(o, sort_keys=True) for o in objs)
            same = canon(kubectl) == canon(objects)
            if not same:
                mine = {key(o): o for o in objects}
                theirs = {key(o): o for o in kubectl}
                diff = [k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k)]
                print(f"kubectl kustomize differs on {diff}", file=sys.stderr)
    json.dump({"objects": objects, "errors": errors, "kubectl_same": same,
               "kubernetes_version": K8S_VERSION}, sys.stdout)


def cmd_reject(path):
    errors = [e for e in (validate(o) for o in load_docs(path)) if e]
    json.dump({"errors": errors}, sys.stdout)


def policy_document(answer):
    """An inline policy as a dict. boto3 decodes IAM's URL-encoded JSON; moto, for a
    policy CloudFormation made, stores Python's repr of it, which boto3 hands back as a
    string."""
    doc = answer["PolicyDocument"]
    if isinstance(doc, str):
        import ast
        try:
            doc = json.loads(doc)
        except ValueError:
            doc = ast.literal_eval(doc)
    return doc


def cmd_batch(template):
    import boto3
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24")["Subnet"]["SubnetId"]
               for i in (1, 2)]
    sg = ec2.create_security_group(GroupName="census-batch", Description="census",
                                   VpcId=vpc)["GroupId"]
    secret = boto3.client("secretsmanager").create_secret(
        Name="census/postgres-url",
        SecretString="postgresql://census:never-printed@db.internal:5432/census")["ARN"]
    cfn = boto3.client("cloudformation")
    params = {"Image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/census:0.1.0",
              "Subnets": ",".join(subnets), "SecurityGroups": sg,
              "PostgresUrlSecretArn": secret, "ShardCount": "6",
              "MemberRoleName": "census/Reader"}
    cfn.create_stack(StackName="census", TemplateBody=open(template).read(),
                     Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v}
                                 for k, v in params.items()])
    stack = cfn.describe_stacks(StackName="census")["Stacks"][0]
    resources = cfn.list_stack_resources(StackName="census")["StackResourceSummaries"]
    batch = boto3.client("batch")
    events = boto3.client("events")
    iam = boto3.client("iam")
    job_role = next(r["PhysicalResourceId"] for r in resources
                    if r["LogicalResourceId"] == "JobRole")
    role_name = job_role.rsplit("/", 1)[-1]
    policies = {p: policy_document(iam.get_role_policy(RoleName=role_name, PolicyName=p))
                for p in iam.list_role_policies(RoleName=role_name)["PolicyNames"]}
    rule = "census-nightly"
    logs = boto3.client("logs").describe_log_groups(logGroupNamePrefix="/aws/batch/census")
    out = {
        "stack_status": stack["StackStatus"],
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        "resources": {r["LogicalResourceId"]: {"type": r["ResourceType"],
                                               "status": r["ResourceStatus"]}
                      for r in resources},
        "compute_environments": batch.describe_compute_environments()["computeEnvironments"],
        "job_queues": batch.describe_job_queues()["jobQueues"],
        "job_definitions": batch.describe_job_definitions()["jobDefinitions"],
        "rule": events.describe_rule(Name=rule),
        "targets": events.list_targets_by_rule(Rule=rule)["Targets"],
        "job_role_policies": policies,
        "log_groups": [g["logGroupName"] for g in logs["logGroups"]],
        "subnets": subnets, "security_group": sg, "secret": secret,
    }
    json.dump(out, sys.stdout, default=str)


def main(argv):
    if len(argv) >= 2 and argv[0] == "kubernetes":
        shards = None
        if len(argv) == 4 and argv[2] == "--shards":
            shards = int(argv[3])
        return cmd_kubernetes(argv[1], shards)
    if len(argv) == 2 and argv[0] == "kubernetes-reject":
        return cmd_reject(argv[1])
    if len(argv) == 2 and argv[0] == "batch":
        return cmd_batch(argv[1])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
