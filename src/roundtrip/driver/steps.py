# The Alembic driver, part 6 of 8: upgrade and downgrade steps, and the env.py runs that take them.
# interpreter.rs joins the parts, in order, into the one script the driver's interpreter runs.


class StepRuns:
    """Upgrade and downgrade steps, each answered as soon as Alembic has committed it.

    Alembic runs env.py once per command, and a round trip sends three commands per revision:
    running env.py and reading the version table's existence and heads again were a third of
    a step. When env.py has shown, on a first step, that it runs the migrations once per run and
    that Alembic commits each step (its `transaction_per_migration`, which the driver turns on:
    one revision per command made one transaction per revision anyway), the run goes on: the
    next step is read while Alembic waits for it, as `alembic upgrade head` runs revision after
    revision. Anything else (a comparison, a stamp, a reconnect, a failure) ends the run, and
    the next run starts as a new command would."""

    def __init__(self, script_of, tracer, recorder, destinations, guard):
        self.script_of = script_of
        self.guard = guard
        self.tracer = tracer
        self.recorder = recorder
        self.destinations = destinations
        # None until a first step tells; then whether a run may take more than one step.
        # MIGRATION_GATE_ONE_STEP_PER_RUN=1 runs env.py for every step, as Alembic's commands do.
        self.continuable = False if os.environ.get("MIGRATION_GATE_ONE_STEP_PER_RUN") == "1" else None
        self.downgrade_step = one_revision_downgrade()

    def begin(self, request):
        self.destinations.reset()
        self.guard.reset()
        if request["cmd"] == "upgrade":
            if request.get("trace"):
                self.tracer.start()
            self.recorder.start(request.get("capture_budget"))

    def answer(self, request):
        trace = self.tracer.stop()
        recorded = self.recorder.stop()
        answer = {"ok": True, **self.destinations.report(), "refused": self.guard.refused}
        if request["cmd"] == "upgrade":
            answer.update(recorded)
            if request.get("trace"):
                answer["trace"] = trace
        return answer

    def plan(self, request, heads):
        from alembic.runtime.migration import RevisionStep
        script = self.script_of()
        if request["cmd"] == "upgrade":
            following = self.following(script, request["target"], heads)
            if following is not None:
                return [RevisionStep(script.revision_map, following, True)]
            return script._upgrade_revs(request["target"], heads)
        revision = script.get_revision(request["target"])
        return [self.downgrade_step(script.revision_map, revision, False)]

    @staticmethod
    def following(script, target, heads):
        """`target`'s revision when it comes right after `heads` (every revision it is based on
        is a head, and it depends on no other), else None. Alembic plans any upgrade by walking
        the target's whole ancestry, which made each step cost more the longer the history;
        for the next revision its plan is that revision alone."""
        try:
            revision = script.revision_map.get_revision(target)
        except Exception:
            return None
        if revision is None or revision.revision != target or revision.dependencies:
            return None
        from alembic.util import to_tuple
        parents = set(to_tuple(revision.down_revision, default=()))
        heads = set(heads)
        if parents <= heads and (parents or not heads):
            return revision
        return None

    @staticmethod
    def parse(line):
        try:
            request = json.loads(line) if line else None
        except ValueError:
            return None
        return request if isinstance(request, dict) else None

    def takes(self, line):
        request = self.parse(line)
        if request and request.get("cmd") in ("upgrade", "downgrade_one") and not request.get("reconnect"):
            return request
        return None

    def run(self, request, run_env):
        """Runs env.py for `request` and, while it can, for the step requests after it. Returns
        the request line that ended the run unanswered, if one did."""
        current, answered = request, False
        next_line = None
        calls, committed = 0, False

        def steps(heads, context):
            nonlocal current, answered, next_line, calls, committed
            calls += 1
            if calls > 1:
                # env.py runs the migrations once per database (the multi-database template):
                # each run takes exactly the requested step, for each database.
                self.continuable = False
            heads_now = tuple(heads)

            def track(ctx, step, heads, run_args):
                nonlocal heads_now
                heads_now = tuple(heads)

            context.on_version_apply_callbacks = tuple(context.on_version_apply_callbacks) + (track,)
            while True:
                yield from self.plan(current, heads_now)
                # Alembic asks for the next step once it has committed this one.
                committed = not context.connection.in_transaction()
                if not (self.continuable and committed):
                    return
                send(self.answer(current))
                answered = True
                line = sys.stdin.readline()
                following = self.takes(line)
                if following is None:
                    next_line = line
                    return
                current, answered = following, False
                # What a new command starts without: the named types (enums) Alembic's DDL
                # runner remembers having created, which a dropped and re-created type is not.
                memo = getattr(context.impl, "memo", None)
                if isinstance(memo, dict):
                    memo.clear()
                self.begin(following)

        self.begin(request)
        try:
            run_env(steps, request.get("target") if request["cmd"] == "upgrade" else None)
        except BaseException:
            if not answered:
                raise
            # What env.py ran after the last answered step failed. The next request is told,
            # unless it reconnects anyway (the database's sessions were ended on purpose).
            following = self.parse(next_line)
            if next_line is not None and not (following and following.get("reconnect")):
                raise
            traceback.print_exc()
            return next_line
        if self.continuable is None:
            self.continuable = calls == 1 and committed
        if not answered:
            send(self.answer(current))
        return next_line


def one_revision_downgrade():
    """Alembic's step for downgrading one revision, without its walk of the whole ancestry when
    the answer is plain: to tell whether the version table loses a row or gets the revision's
    parent, Alembic removes from the revisions it goes back to their own ancestors, which for a
    single one, alone at the head, leaves it. That walk made each downgrade cost more the longer
    the history."""
    from alembic.runtime.migration import RevisionStep

    class OneRevisionDowngrade(RevisionStep):
        def _unmerge_to_revisions(self, heads):
            to_revisions = tuple(self.to_revisions)
            if len(to_revisions) == 1 and set(heads) == {self.revision.revision}:
                return to_revisions
            return super()._unmerge_to_revisions(heads)

    return OneRevisionDowngrade


def commit_each_step():
    """Each step in its own transaction, committed before the next (Alembic's
    `transaction_per_migration`): a step is one revision, so this is the transaction env.py
    would have given the command; it lets one env.py run take step after step."""
    try:
        from alembic.runtime.environment import EnvironmentContext
    except ImportError:
        return
    configure = EnvironmentContext.configure

    def configure_per_step(self, *args, **kwargs):
        kwargs["transaction_per_migration"] = True
        return configure(self, *args, **kwargs)

    EnvironmentContext.configure = configure_per_step


def keep_env_py_compiled():
    """Alembic reads and compiles env.py again for every command, and a round trip runs three
    commands per revision: that was a fifth of a step. The compiled code is kept (per path,
    size and modification time); every command still runs it afresh in a new module, as
    Alembic does."""
    try:
        import importlib.util
        from alembic.util import pyfiles
    except ImportError:
        return
    load = getattr(pyfiles, "load_module_py", None)
    if load is None:
        return
    compiled = {}

    def load_module_py(module_id, path):
        if os.path.basename(path) != "env.py":
            return load(module_id, path)
        try:
            stat = os.stat(path)
            key = (path, stat.st_mtime_ns, stat.st_size)
            code = compiled.get(key)
            if code is None:
                with open(path, "rb") as source:
                    code = compile(source.read(), path, "exec")
                compiled[key] = code
        except OSError:
            return load(module_id, path)
        module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(module_id, path))
        exec(code, module.__dict__)
        return module

    pyfiles.load_module_py = load_module_py
