"""Replays every detail call of a finished Census scan with boto3 and compares.

Usage: python replay_details.py <scan folder>

The scan folder is `<out>/<scan-id>`. Its `summary.json` names every detail call (a
call with a `parent`: one per detail operation, account and region) and
`.census/plan.json` says what each detail is (`calls[i].details[j]`: service,
function, parameters as written, result_key). For every element of every detail file,
`<account folder>/<region or global>/<service>-<function>.json`, this script makes the
same call with boto3, in the same account (the caller's own, or a member's through
OrganizationAccountAccessRole) and region (`global` is us-east-1), with the element's
computed `parameters`, all pages merged (build_full_result) when the operation
paginates, ResponseMetadata dropped and the detail's result_key (a member name, or a
path of them: `.A.B`) applied, and checks:
- an element with `result`: boto3 returned the same JSON (awsdyn's convention:
  isoformat() datetimes, base64 blobs);
- an element with `absent` or `error`: boto3 raised a ClientError with the same code
  (anything else boto3 raises is reported as a mismatch of kind "exception").
It also checks that each detail file has one element per item of its parent's file (the
parent's result_key value, or without one the elements of the result's top-level
lists, in order).

Prints one JSON document:
  {"calls": N, "elements": N, "results": N, "absent": N, "errors": N,
   "by_call": {"<account>/<region>/<stem>": {"parent", "elements", "results", "absent",
                                             "errors"}},
   "mismatches": [{"file", "index", "parameters", "census", "boto3"}],
   "count_mismatches": [{"file", "items", "elements"}]}
Everything in one process, one botocore session: a few seconds for a whole scan.
"""

import json
import os
import sys

from botocore import xform_name
from botocore.exceptions import ClientError

from common import Caller, emit, member_role_arn, to_json

GLOBAL_REGION = "us-east-1"


def normal(value):
    """value as Census writes it: through JSON in awsdyn's convention."""
    return json.loads(json.dumps(value, default=to_json))


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def account_folders(root):
    """account id -> its folder (`<id>-<name>`, or `<id>` alone)."""
    out = {}
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        out[name.split("-", 1)[0]] = path
    return out


def parent_items(value, result_key):
    """The items a parent's output file holds, as the engine fans out over them."""
    if result_key is not None:
        return value if isinstance(value, list) else [value]
    if isinstance(value, list):
        return value
    items = []
    if isinstance(value, dict):
        for member in value.values():
            if isinstance(member, list):
                items.extend(member)
    return items


def apply_result_key(result, result_key):
    """A member name (`TagSet`), or a plain path of members (`.Table.TableArn`)."""
    if result_key is None:
        return result
    for member in result_key.lstrip(".").split("."):
        result = result.get(member) if isinstance(result, dict) else None
    return result


def details_by_stem(plan):
    """(parent stem, detail stem) -> (parent call, detail) from the plan. Stems are
    named as Census names them: `<service>-<function>`, with `-2`, `-3`... for the same
    one again, counted over the plan's calls in order, each call's details after it."""
    seen = {}

    def stem(service, function):
        base = f"{service}-{function}"
        seen[base] = seen.get(base, 0) + 1
        return base if seen[base] == 1 else f"{base}-{seen[base]}"

    out = {}
    for call in plan.get("calls", []):
        parent = stem(call["service"], call["function"])
        for detail in call.get("details") or []:
            service = detail.get("service") or call["service"]
            out[(parent, stem(service, detail["function"]))] = (call, detail)
    return out


class Replayer:
    def __init__(self, root):
        self.root = root
        self.plan = read(os.path.join(root, ".census", "plan.json"))
        self.summary = read(os.path.join(root, "summary.json"))
        self.accounts = {a["id"]: a for a in read(os.path.join(root, "accounts.json"))}
        self.folders = account_folders(root)
        self.details = details_by_stem(self.plan)
        self.paginate = self.plan.get("paginate", True)
        self.callers = {}
        self.clients = {}
        self.report = {
            "calls": 0,
            "elements": 0,
            "results": 0,
            "absent": 0,
            "errors": 0,
            "by_call": {},
            "mismatches": [],
            "count_mismatches": [],
        }

    def client(self, account_id, region, service):
        key = (account_id, region, service)
        if key not in self.clients:
            if account_id not in self.callers:
                account = self.accounts.get(account_id, {})
                role = None if account.get("is_caller", True) else member_role_arn(account_id)
                self.callers[account_id] = Caller(role_arn=role)
            self.clients[key] = self.callers[account_id].client(service, region)
        return self.clients[key]

    def call(self, client, function, parameters, result_key):
        """("result", value) or ("error", code)."""
        try:
            if self.paginate and client.can_paginate(function):
                result = client.get_paginator(function).paginate(**parameters).build_full_result()
            else:
                result = getattr(client, function)(**parameters)
        except ClientError as e:
            return "error", e.response.get("Error", {}).get("Code")
        except Exception as e:  # pylint: disable=broad-except
            # Not an AWS error (an HTML 500 page boto3 cannot parse, a parameter boto3
            # refuses): reported as a mismatch, with what happened, rather than ending
            # the replay.
            text = f"{type(e).__name__}: {e}"
            # moto's HTML error page for an operation it does not implement: boto3
            # cannot parse it, Census records its HTTP status as the code.
            status = getattr(e, "kwargs", {}).get("status_code") or next(
                (s for s in ("500", "501", "404") if f"<title>{s} " in text), None
            )
            if status:
                return "error", str(status)
            return "exception", text[:300]
        result.pop("ResponseMetadata", None)
        return "result", normal(apply_result_key(result, result_key))

    def replay_call(self, summary_call):
        account_id = summary_call["account_id"]
        label = summary_call["region"]
        stem = summary_call["stem"]
        parent_stem = summary_call["parent"]
        parent, detail = self.details[(parent_stem, stem)]
        service = detail.get("service") or parent["service"]
        folder = os.path.join(self.folders[account_id], label)
        path = os.path.join(folder, f"{stem}.json")
        elements = read(path)
        parent_path = os.path.join(folder, f"{parent_stem}.json")
        if os.path.exists(parent_path):
            items = parent_items(read(parent_path), parent.get("result_key"))
            if len(items) != len(elements):
                self.report["count_mismatches"].append(
                    {"file": path, "items": len(items), "elements": len(elements)}
                )
        region = GLOBAL_REGION if label == "global" else label
        client = self.client(account_id, region, service)
        function = xform_name(detail["function"])
        counts = {"parent": parent_stem, "elements": 0, "results": 0, "absent": 0, "errors": 0}
        for index, element in enumerate(elements):
            counts["elements"] += 1
            kind, got = self.call(client, function, element["parameters"], detail.get("result_key"))
            if "result" in element:
                counts["results"] += 1
                census = ("result", element["result"])
            elif "absent" in element:
                counts["absent"] += 1
                census = ("error", element["absent"].get("code"))
            else:
                counts["errors"] += 1
                census = ("error", (element.get("error") or {}).get("code"))
            if census != (kind, got):
                self.report["mismatches"].append(
                    {
                        "file": path,
                        "index": index,
                        "parameters": element["parameters"],
                        "census": {census[0]: census[1]},
                        "boto3": {kind: got},
                    }
                )
        self.report["by_call"][f"{account_id}/{label}/{stem}"] = counts
        self.report["calls"] += 1
        for k in ("elements", "results", "absent", "errors"):
            self.report[k] += counts[k]

    def run(self):
        for account in self.summary.get("accounts", []):
            for call in account.get("calls", []):
                if call.get("parent"):
                    self.replay_call(call)
        return self.report


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: replay_details.py <scan folder>")
    emit(Replayer(sys.argv[1]).run())


if __name__ == "__main__":
    main()
