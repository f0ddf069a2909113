"""publish(): skip rules, commit mode and PR mode against a real bare remote and the strict fake GitHub."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from fake_github import FakeGitHub
from git_world import SMOKE, SMOKE_TEXT, GitWorld
from pydantic import SecretStr

from perfgate.adapters.github import GitHubClient
from perfgate.errors import UsageError
from perfgate.models import (
    HealPlan,
    PublishResult,
    Stage,
    StageChange,
    StageStats,
    ThresholdChange,
    ThresholdEvidence,
)
from perfgate.pipeline.publish import publish, render_commit_message, render_heal_markdown
from perfgate.settings import Settings

BRANCH = "perfgate/heal-notes-smoke"
NO_GITHUB = Settings.model_construct(github_token=None, github_repository=None)
NOW = datetime(2024, 6, 1, 8, 30, tzinfo=UTC)


def make_plan(
    new_limit: float = 40.0, *, reason: str = "sustained improvement over 20 runs", **kw: object
) -> HealPlan:
    threshold = ThresholdChange(
        metric="http_req_duration{name:get_note}",
        aggregation="p(95)",
        old="p(95)<150",
        new=f"p(95)<{new_limit:g}",
        old_limit=150,
        new_limit=new_limit,
        direction="tighten",
        reason=reason,
        evidence=ThresholdEvidence(
            history_runs=20,
            median=31.2,
            spread=1.9,
            upper_bound=35.0,
            anchor=30.8,
            headroom=1.15,
            ceiling=200,
        ),
    )
    stage = StageChange(
        kind="lengthen_ramp",
        scenario="journey",
        stage=0,
        old=[Stage(duration="5s", target=50)],
        new=[Stage(duration="20s", target=50)],
        reason="errors concentrate in the steep ramp",
        evidence=[
            StageStats(scenario="journey", stage=0, requests=900, failed=45, p95_ms=820.0, error_rate=0.05)
        ],
    )
    fields: dict[str, object] = {
        "scenario": "notes-smoke",
        "profile": SMOKE,
        "verdict": "improvement",
        "thresholds": [threshold],
        "stages": [stage],
    }
    return HealPlan.model_validate(fields | kw)


@pytest.fixture
def work(world: GitWorld) -> Path:
    path = world.clone("work")
    world.write(path, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<40"))
    return path


@pytest.fixture
def fake(fake_github: FakeGitHub) -> FakeGitHub:
    return fake_github


def _publish(
    world: GitWorld, work: Path, plan: HealPlan, mode: Literal["commit", "pr"], **kw: Any
) -> PublishResult:
    kw.setdefault("settings", NO_GITHUB)
    return publish(work, [work / SMOKE], plan, mode, git=world.repo(work), now=NOW, **kw)


def test_read_only_run_is_skipped_with_a_notice(world: GitWorld, work: Path, github: GitHubClient) -> None:
    result = _publish(world, work, make_plan(), "pr", github=github, read_only=True)
    assert result.operation == "skipped" and "read-only" in (result.notice or "")


def test_missing_token_skips_pr_mode(world: GitWorld, work: Path) -> None:
    head = world.git(work, "rev-parse", "HEAD")
    result = _publish(world, work, make_plan(), "pr")
    assert result.operation == "skipped" and "no GitHub token" in (result.notice or "")
    assert world.git(work, "rev-parse", "HEAD") == head
    assert world.git(world.remote, "branch", "--list", BRANCH) == ""


def test_missing_repository_skips_pr_mode(world: GitWorld, work: Path) -> None:
    settings = Settings.model_construct(github_token=SecretStr("t"), github_repository=None)
    assert _publish(world, work, make_plan(), "pr", settings=settings).operation == "skipped"


def test_refused_plan_is_skipped(world: GitWorld, work: Path) -> None:
    result = _publish(world, work, make_plan(refused="the verdict is a regression"), "commit")
    assert result.operation == "skipped" and "regression" in (result.notice or "")


def test_empty_plan_is_unchanged(world: GitWorld, work: Path) -> None:
    result = _publish(world, work, make_plan(thresholds=[], stages=[]), "commit")
    assert result.operation == "unchanged"


def test_files_already_at_head_are_unchanged(world: GitWorld, work: Path, github: GitHubClient) -> None:
    world.git(work, "checkout", "--", SMOKE)
    assert _publish(world, work, make_plan(), "commit").operation == "unchanged"
    assert _publish(world, work, make_plan(), "pr", github=github).operation == "unchanged"


def test_loop_guard_head_made_by_perfgate(world: GitWorld, work: Path) -> None:
    assert _publish(world, work, make_plan(), "commit").operation == "committed"
    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<39"))
    result = _publish(world, work, make_plan(39), "commit")
    assert result.operation == "skipped" and "loop guard" in (result.notice or "")


def test_commit_mode_commits_and_pushes_without_a_token(world: GitWorld, work: Path) -> None:
    result = _publish(world, work, make_plan(), "commit")
    assert result.operation == "committed" and result.branch == "main"
    assert result.commit == world.remote_rev("main")
    message = world.message(work, "HEAD")
    assert message.startswith("perfgate: heal notes-smoke [skip ci]")
    assert "Perfgate-Heal: notes-smoke" in message
    assert world.git(work, "log", "-1", "--format=%cI") == "2024-06-01T08:30:00+00:00"


def test_commit_mode_push_race_recomputes(world: GitWorld, work: Path) -> None:
    other = world.clone("other")
    world.write(other, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<120"))
    theirs = world.commit_all(other, "tighten by hand")
    world.git(other, "push", "--quiet", "origin", "main")

    def recompute() -> HealPlan:
        assert "p(95)<120" in (work / SMOKE).read_text()  # healing again starts from the remote's file
        world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<41"))
        return make_plan(41)

    result = _publish(world, work, make_plan(), "commit", recompute=recompute)
    assert result.operation == "committed"
    assert world.remote_rev("main~1") == theirs
    assert "p(95)<41" in world.remote_show(f"main:{SMOKE}")


def test_commit_mode_needs_a_branch(world: GitWorld, work: Path) -> None:
    world.git(work, "checkout", "--quiet", "--detach")
    with pytest.raises(UsageError, match="detached"):
        _publish(world, work, make_plan(), "commit")


def test_pr_mode_created_unchanged_updated(
    world: GitWorld, work: Path, fake: FakeGitHub, github: GitHubClient
) -> None:
    head = world.git(work, "rev-parse", "HEAD")
    created = _publish(world, work, make_plan(), "pr", github=github)
    assert (created.operation, created.branch, created.pr_number) == ("created", BRANCH, 1)
    assert created.commit == world.remote_rev(BRANCH)
    assert world.remote_rev(f"{BRANCH}~1") == head
    assert world.git(work, "rev-parse", "HEAD") == head  # the checkout stays where it was
    pr = fake.pulls[1]
    assert (pr["head"]["ref"], pr["base"]["ref"]) == (BRANCH, "main")
    assert pr["title"] == "perfgate: heal the load test for notes-smoke"
    assert pr["body"] == render_heal_markdown(make_plan())

    again = _publish(world, work, make_plan(), "pr", github=github)
    assert (again.operation, again.commit) == ("unchanged", created.commit)

    world.write(work, SMOKE, SMOKE_TEXT.replace("p(95)<150", "p(95)<42"))
    updated = _publish(world, work, make_plan(42), "pr", github=github)
    assert updated.operation == "updated" and updated.pr_number == 1
    assert world.remote_rev(f"{BRANCH}~1") == head  # still one commit on the base
    assert "p(95)<42" in world.remote_show(f"{BRANCH}:{SMOKE}")
    assert len(fake.pulls) == 1


def test_pr_mode_explicit_base_from_a_detached_checkout(
    world: GitWorld, work: Path, fake: FakeGitHub, github: GitHubClient
) -> None:
    world.git(work, "checkout", "--quiet", "--detach")
    with pytest.raises(UsageError, match="base branch"):
        _publish(world, work, make_plan(), "pr", github=github)
    assert _publish(world, work, make_plan(), "pr", github=github, base="main").operation == "created"
    assert fake.pulls[1]["base"]["ref"] == "main"


def test_pr_mode_refuses_a_scenario_that_is_not_a_plain_name(
    world: GitWorld, work: Path, github: GitHubClient
) -> None:
    with pytest.raises(UsageError, match="cannot name a branch"):
        _publish(world, work, make_plan(scenario="x; git push --force origin main"), "pr", github=github)


def test_markdown_carries_the_evidence_and_escapes_free_text() -> None:
    plan = make_plan(
        reason="noise | <script>alert(1)</script> **bold** [x](http://evil)",
        notices=["see `rm -rf` <b>now</b>"],
    )
    md = render_heal_markdown(plan)
    assert md.startswith("<!-- perfgate-heal:perfgate/heal-notes-smoke -->\n## perfgate: healed load test")
    assert "<script>" not in md and "<b>" not in md and "](http" not in md and "**bold**" not in md
    assert r"noise \| \<script\>" in md
    row = next(line for line in md.splitlines() if "get\\_note" in line)
    assert r"p\(95\)\<150 → p\(95\)\<40" in row
    assert "| tighten 150 → 40 | 20 | 31.2 | 1.9 | 35 × 1.15 | 30.8 | 200 |" in row
    assert "Stages before: 5s to 50  " in md and "Stages after: 20s to 50" in md
    assert "| 0 | 900 | 45 | 820 | – | 5.00 % |" in md
    assert r"> see \`rm \-rf\` \<b\>now\</b\>" in md


def test_commit_message_has_the_trailer_last() -> None:
    message = render_commit_message(make_plan(), skip_ci=True)
    assert message.splitlines()[0] == "perfgate: heal notes-smoke [skip ci]"
    assert "- http_req_duration{name:get_note}: p(95)<150 -> p(95)<40 (tighten)" in message
    assert message.rstrip().splitlines()[-1] == "Perfgate-Heal: notes-smoke"
