#!/usr/bin/env python3
"""Validate pipeline/ci/*.yml: valid YAML, the promised jobs and their order, and only real
dbdeploy commands. Usage: check_ci.py PIPELINE_CI_DIR DBDEPLOY_COMMANDS (space separated)."""
import re
import sys

import yaml


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def commands_in(text):
    return set(re.findall(r"\bdbdeploy (?:--json |-q |-v )*([a-z-]+)", text))


BACKUPS = ".dbdeploy/backups"


def github_keeps(path, jobs):
    """Each deploy job keeps its changelog entry (committed, or uploaded) and its backup (uploaded)
    when the runner is thrown away."""
    for name in ("deploy-staging", "deploy-prod"):
        steps = jobs[name]["steps"]
        uploads = " ".join(str(s.get("with", {}).get("path", "")) for s in steps if "upload-artifact" in s.get("uses", ""))
        runs = "\n".join(s.get("run", "") for s in steps)
        committed = re.search(r"\bdbdeploy changelog \S+ --commit\b", runs) and "git push" in runs
        if not committed and "changelog" not in uploads:
            fail(f"{path}: {name} neither commits nor uploads the changelog entry")
        if committed and jobs[name].get("permissions", {}).get("contents") != "write":
            fail(f"{path}: {name} pushes the changelog without permissions: contents: write")
        if BACKUPS not in uploads:
            fail(f"{path}: {name} leaves its backup on the runner's disk (upload {BACKUPS})")


def gitlab_keeps(path, doc):
    for name in ("deploy-staging", "deploy-prod"):
        job = dict(doc[name])
        base = doc.get(job.get("extends", ""), {}) if isinstance(job.get("extends"), str) else {}
        lines = "\n".join((job.get("after_script") or base.get("after_script") or []) + job["script"])
        paths = " ".join((job.get("artifacts") or {}).get("paths") or [])
        committed = re.search(r"\bdbdeploy changelog \S+ --commit\b", lines) and "git push" in lines
        if not committed and "changelog" not in paths:
            fail(f"{path}: {name} neither commits nor keeps the changelog entry")
        if BACKUPS not in paths or (job.get("artifacts") or {}).get("when") != "always":
            fail(f"{path}: {name} leaves its backup on the runner's disk (artifacts: when: always, paths: {BACKUPS})")


def check_github(path, known):
    text = open(path).read()
    doc = yaml.safe_load(text)
    # YAML 1.1 reads the key "on" as True
    on = doc.get("on", doc.get(True))
    if not isinstance(on, dict) or "push" not in on or "pull_request" not in on:
        fail(f"{path}: must run on push and pull_request")
    jobs = doc["jobs"]
    for name in ("verify", "deploy-staging", "gate-staging", "deploy-prod"):
        if name not in jobs:
            fail(f"{path}: job {name} missing")
        if not jobs[name].get("steps"):
            fail(f"{path}: job {name} has no steps")
        for step in jobs[name]["steps"]:
            if "uses" not in step and "run" not in step:
                fail(f"{path}: a step of {name} neither uses an action nor runs anything")
    if "if" in jobs["verify"]:
        fail(f"{path}: verify must run on every push and pull request")
    if "refs/heads/main" not in jobs["deploy-staging"].get("if", ""):
        fail(f"{path}: deploy-staging must only run on main")
    if jobs["deploy-staging"].get("needs") != "verify":
        fail(f"{path}: deploy-staging must need verify")
    if jobs["gate-staging"].get("needs") != "deploy-staging":
        fail(f"{path}: gate-staging must need deploy-staging")
    if jobs["deploy-prod"].get("needs") != "gate-staging":
        fail(f"{path}: deploy-prod must need gate-staging")
    if jobs["deploy-prod"].get("environment") != "production":
        fail(f"{path}: deploy-prod must use the production environment (manual approval)")
    runs = "\n".join(s.get("run", "") for j in jobs.values() for s in j["steps"])
    for c in commands_in(runs):
        if c not in known:
            fail(f"{path}: 'dbdeploy {c}' is not a dbdeploy command")
    for c in ("verify", "deploy", "gate"):
        if c not in commands_in(runs):
            fail(f"{path}: never runs 'dbdeploy {c}'")
    github_keeps(path, jobs)


def check_gitlab(path, known):
    text = open(path).read()
    doc = yaml.safe_load(text)
    stages = doc.get("stages")
    if stages != ["verify", "staging", "gate", "production"]:
        fail(f"{path}: unexpected stages {stages}")
    for name in ("verify", "deploy-staging", "gate-staging", "deploy-prod"):
        job = doc.get(name)
        if not isinstance(job, dict) or not job.get("script"):
            fail(f"{path}: job {name} missing or without a script")
        if job.get("stage") not in stages:
            fail(f"{path}: job {name} has an unknown stage")
    sources = " ".join(r.get("if", "") for r in doc["verify"]["rules"])
    if "merge_request_event" not in sources or "push" not in sources:
        fail(f"{path}: verify must run on pushes and merge requests")
    prod_rules = doc["deploy-prod"]["rules"]
    if not any(r.get("when") == "manual" for r in prod_rules):
        fail(f"{path}: deploy-prod must be manual")
    if doc["deploy-prod"].get("needs") != ["gate-staging"] or doc["gate-staging"].get("needs") != ["deploy-staging"]:
        fail(f"{path}: production must need the gate, the gate must need staging")
    scripts = "\n".join(
        line
        for j in doc.values()
        if isinstance(j, dict)
        for line in (j.get("script") or []) + (j.get("before_script") or []) + (j.get("after_script") or [])
    )
    for c in commands_in(scripts):
        if c not in known:
            fail(f"{path}: 'dbdeploy {c}' is not a dbdeploy command")
    gitlab_keeps(path, doc)


def check_fleet(d, known):
    """The fleet templates: a canary job gated before the matrix of per-target deploys."""
    import os

    gh = d + "/github-actions-fleet.yml"
    if os.path.exists(gh):
        jobs = yaml.safe_load(open(gh))["jobs"]
        if jobs["canary"].get("needs") != "targets" or "canary" not in jobs["rollout"].get("needs", []):
            fail(f"{gh}: the rollout matrix must need the canary, the canary the target list")
        runs = "\n".join(s.get("run", "") for j in jobs.values() for s in j["steps"])
        if "dbdeploy --json targets" not in runs or "--target" not in runs:
            fail(f"{gh}: must list the targets and deploy each with --target")
        for c in commands_in(runs):
            if c not in known:
                fail(f"{gh}: 'dbdeploy {c}' is not a dbdeploy command")
    gl = d + "/gitlab-ci-fleet.yml"
    if os.path.exists(gl):
        doc = yaml.safe_load(open(gl))
        if doc["fleet"].get("needs") != ["targets"] or "trigger" not in doc["fleet"]:
            fail(f"{gl}: the fleet child pipeline must be triggered after the targets job")
        script = "\n".join(doc["targets"]["script"])
        for c in commands_in(script):
            if c not in known:
                fail(f"{gl}: 'dbdeploy {c}' is not a dbdeploy command")


def main():
    d, known = sys.argv[1], set(sys.argv[2].split())
    check_github(d + "/github-actions.yml", known)
    check_gitlab(d + "/gitlab-ci.yml", known)
    check_fleet(d, known)
    print("ok: both CI definitions parse and wire verify -> staging -> gate -> manual production")


main()
