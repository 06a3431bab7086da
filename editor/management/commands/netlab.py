"""``manage.py netlab``: the command line of DESIGN.md section 5.

Each subcommand parses its arguments, finds what it acts on and calls ``editor.services``;
errors are one line on stderr and a non-zero exit status, never a traceback.

Each handler imports the services it calls: they load the document model and the engine,
which ``netlab list`` never needs and whose import was a third of its start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import signal
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db.utils import OperationalError, ProgrammingError

from editor.models import Design

if TYPE_CHECKING:
    from netlab.core import interop
    from netlab.core.document import Document
    from netlab.core.validation import InvalidDesign

# The exporter's default image (containerlab.DEFAULT_IMAGE, checked by a unit test), named
# here so that parsing the arguments does not load the exporter.
CONTAINERLAB_IMAGE = "alpine:3"


def find_design(reference: str) -> Design:
    """Return the design whose id is ``reference``, or whose name is, if only one has it."""
    if reference.isdigit():
        design = Design.objects.filter(pk=int(reference)).first()
        if design is None:
            raise CommandError(f"no design with id {reference}")
        return design
    matches = list(Design.objects.filter(name=reference).order_by("pk"))
    if not matches:
        raise CommandError(f"no design named {reference!r}")
    if len(matches) > 1:
        ids = ", ".join(str(design.pk) for design in matches)
        raise CommandError(f"several designs are named {reference!r} (ids {ids}); give the id")
    return matches[0]


def find_user(username: str | None) -> User:
    """Return user ``username``, or the site's first superuser when None."""
    users = get_user_model()
    if username is None:
        user = users.objects.filter(is_superuser=True).order_by("pk").first()
        if user is None:
            raise CommandError("there is no admin user yet; name the owner with --owner USER")
        return user
    try:
        return users.objects.get(**{users.USERNAME_FIELD: username})
    except users.DoesNotExist:
        raise CommandError(f"no user {username!r}") from None


def read_file(path: str) -> bytes:
    """Return the bytes of file ``path``; raise :class:`CommandError` if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from None


def invalid_file(path: str, error: InvalidDesign) -> CommandError:
    lines = "\n".join(f"  {problem}" for problem in error.problems)
    return CommandError(f"{path} is not a valid design:\n{lines}")


def read_document(path: str) -> Document:
    """Return the valid design in file ``path``; raise :class:`CommandError` listing problems."""
    from netlab.core import codec
    from netlab.core.validation import InvalidDesign

    text = read_file(path)
    try:
        return codec.load_text(text, codec.guess_format(path))
    except InvalidDesign as error:
        raise invalid_file(path, error) from None


def unapplied_migrations() -> bool:
    """Whether the database lacks migrations this code has (asked only once a query failed:
    reading the migration graph is not free)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


class ReaderMayLeave(OutputWrapper):
    """Standard output whose reader may stop reading (``netlab status | head -1``): the
    command goes on, its work finished, its output dropped; a deploy is never left half
    made for a closed pipe."""

    gone = False

    # OutputWrapper.write itself overrides TextIOBase.write with this signature.
    def write(  # type: ignore[override]
        self, msg: str = "", style_func: Any = None, ending: str | None = None
    ) -> None:
        if self.gone:
            return
        try:
            super().write(msg, style_func, ending)
            self.flush()
        except BrokenPipeError:
            self.gone = True
            # What is still buffered would fail again when the interpreter exits.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


class Command(BaseCommand):
    help = "netlab's command line: import, export, validate and list designs; API tokens."
    # The system checks load every URL, the API and the admin: most of a short command's
    # start-up. They run before serving (handle_serve, handle_worker) and in `make lint`.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="COMMAND")

        imports = commands.add_parser(
            "import",
            help="create a design from a file: a netlab design (JSON or YAML), a containerlab "
            "topology or a command script, told apart by content",
        )
        imports.add_argument("file")
        imports.add_argument("--owner", help="user name (default: the first admin)")
        imports.add_argument("--message", default="", help="revision message")
        imports.add_argument(
            "--dry-run", action="store_true", help="print the design as YAML; save nothing"
        )

        exports = commands.add_parser("export", help="print a design's document")
        exports.add_argument("design", help="design id, or name if unambiguous")
        exports.add_argument(
            "--format", choices=["json", "yaml", "sh", "containerlab"], default="json"
        )
        exports.add_argument(
            "--image",
            default=CONTAINERLAB_IMAGE,
            help=f"containerlab: the image of linux nodes (default {CONTAINERLAB_IMAGE})",
        )

        validates = commands.add_parser("validate", help="check a design file, saving nothing")
        validates.add_argument("file")

        commands.add_parser("list", help="list designs: id, owner, name, nodes, links, title")

        token = commands.add_parser("token", help="print a new API token for a user")
        token.add_argument("user")
        token.add_argument("--name", default="", help="what the token is for")

        deploy = commands.add_parser("deploy", help="deploy a design; wait until running or failed")
        deploy.add_argument("design")
        deploy.add_argument(
            "--host-mode",
            action="store_true",
            help="map the host node onto this machine's root namespace (needs NETLAB_HOST_MODE=1)",
        )
        apply = commands.add_parser(
            "apply", help="change a running lab in place to the design's latest saved revision"
        )
        apply.add_argument("design")
        apply.add_argument("--dry-run", action="store_true", help="print the steps; change nothing")
        status = commands.add_parser("status", help="a design's deployment and its namespaces")
        status.add_argument("design")
        status.add_argument("--json", action="store_true", help="print JSON")
        check = commands.add_parser("check", help="compare the kernel with the design")
        check.add_argument("design")
        ping = commands.add_parser("ping", help="ping from a node of a running deployment")
        ping.add_argument("design")
        ping.add_argument("source", help="node id")
        ping.add_argument("target", help="address, or node id (its first address)")
        ping.add_argument("--count", type=int, default=3)
        explains = commands.add_parser(
            "explain", help="why a packet from a node to a target arrives or not, hop by hop"
        )
        explains.add_argument("design")
        explains.add_argument("source", nargs="?", help="node id")
        explains.add_argument("target", nargs="?", help="address, or node id (its first address)")
        explains.add_argument("--protocol", choices=["icmp", "tcp"], default="icmp")
        explains.add_argument("--port", type=int, help="the TCP port (with --protocol tcp)")
        explains.add_argument("--json", action="store_true", help="print JSON")
        explains.add_argument(
            "--observe", action="store_true", help="also probe the running lab (root)"
        )
        explains.add_argument(
            "--matrix", action="store_true", help="every node to every address, as ping-all"
        )
        captures = commands.add_parser(
            "capture", help="print the packets passing an interface of a running lab"
        )
        captures.add_argument("design")
        captures.add_argument("node", help="node id")
        captures.add_argument("interface", help="one of the node's interfaces")
        captures.add_argument("--seconds", type=float, default=10.0)
        captures.add_argument("--count", type=int, help="stop after this many packets")
        captures.add_argument("--filter", help="a BPF filter, as tcpdump reads it (icmp or arp)")
        captures.add_argument("--write", help="also write the packets to this pcap file")
        execs = commands.add_parser(
            "exec", help="run a line through a node's console (a diagnostic, or an edit)"
        )
        execs.add_argument("design")
        execs.add_argument("node", help="node id")
        execs.add_argument("words", nargs="+", help="the line, after --")
        destroy = commands.add_parser("destroy", help="destroy a design's deployment")
        destroy.add_argument("design")
        destroy.add_argument("--user", help="whose lab (default: the design's owner)")
        commands.add_parser("cleanup", help="remove every netlab object no live deployment owns")

        commands.add_parser(
            "ensure-admin", help="create the admin account if none exists, printing its password"
        )

        serve = commands.add_parser("serve", help="serve netlab (HTTP and websockets) with daphne")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=int(os.environ.get("NETLAB_PORT", "8000")))
        worker = commands.add_parser(
            "worker", help="run the worker alone (the production layout; needs NETLAB_REDIS_URL)"
        )
        worker.add_argument(
            "--site",
            nargs="?",
            const="",
            help="run the labs placed on this site (a slug; default: the host name)",
        )
        worker.add_argument("--underlay", help="the IP address other sites reach this one at")
        worker.add_argument("--max-labs", type=int, default=0, help="the site's labs (0: any)")
        worker.add_argument(
            "--max-namespaces", type=int, default=0, help="the site's namespaces (0: any)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        handler = getattr(self, "handle_" + options["subcommand"].replace("-", "_"))
        output = ReaderMayLeave(cast(TextIO, self.stdout._out), self.stdout.ending)
        output.style_func = self.stdout.style_func
        self.stdout = output
        try:
            handler(Namespace(**options))
        except (OperationalError, ProgrammingError) as error:
            if unapplied_migrations():
                cause = str(error).splitlines()[0]  # PostgreSQL adds the query's text
                raise CommandError(
                    f"the database is older than this netlab ({cause}); bring it up to date "
                    "with: .venv/bin/python manage.py migrate"
                ) from None
            raise

    def handle_import(self, options: Namespace) -> None:
        import yaml

        from editor import services
        from netlab.core import interop, validation
        from netlab.core.document import Document
        from netlab.core.validation import InvalidDesign

        text = read_file(options.file)
        filename = Path(options.file).name
        if options.dry_run:
            try:
                translation = interop.read(text, filename)
            except InvalidDesign as error:
                raise invalid_file(options.file, error) from None
            self.report(translation.notes)
            self.stdout.write(yaml.safe_dump(translation.data, sort_keys=False), ending="")
            return
        owner = find_user(options.owner)
        try:
            imported = services.import_document(
                owner=owner, text=text, filename=filename, message=options.message
            )
        except InvalidDesign as error:
            raise invalid_file(options.file, error) from None
        self.report(imported.notes)
        design = imported.design
        if design.current is not None and design.current.draft:
            problems = validation.validate(Document.model_validate(design.document))
            self.stderr.write(f"saved as a draft: {len(problems)} problems to fix before deploying")
            for problem in problems:
                self.stderr.write(f"  {problem}")
        if design.name != imported.name:
            self.stdout.write(f"{owner} already has a design named {imported.name!r}")
        self.stdout.write(f"{design.pk} {design.name}")

    def report(self, notes: tuple[interop.Note, ...]) -> None:
        """One line on standard error for each item not imported (or imported adjusted)."""
        for note in notes:
            self.stderr.write(str(note))

    def handle_export(self, options: Namespace) -> None:
        from editor import deployments, lab
        from netlab.core import codec
        from netlab.core.document import Document
        from netlab.core.interop import containerlab
        from netlab.core.validation import InvalidDesign

        design = find_design(options.design)
        document = Document.model_validate(design.document)
        scripted = {"sh": "a script", "containerlab": "a containerlab topology"}
        if options.format in scripted and design.current is not None and design.current.draft:
            raise CommandError(
                deployments.draft_refusal(design.current, f"exported as {scripted[options.format]}")
            )
        if options.format == "containerlab":
            self.stdout.write(containerlab.write(document, options.image), ending="")
            return
        if options.format == "sh":
            try:
                script = lab.shell_script(document)
            except InvalidDesign as error:  # saved before a rule it now breaks was added
                lines = "\n".join(f"  {problem}" for problem in error.problems)
                raise CommandError(f"{design.name} no longer passes validation:\n{lines}") from None
            self.stdout.write(script, ending="")
        else:
            self.stdout.write(codec.dump(document, options.format), ending="")

    def handle_validate(self, options: Namespace) -> None:
        document = read_document(options.file)
        self.stdout.write(
            f"{options.file}: valid ({len(document.nodes)} nodes, {len(document.links)} links)"
        )
        from netlab.core import consistency

        # Warnings refuse nothing: the exit status stays 0.
        for warning in consistency.warnings(document):
            self.stdout.write(f"{options.file}: warning: {warning}")

    def handle_list(self, options: Namespace) -> None:
        for design in Design.objects.select_related("owner").order_by("pk"):
            self.stdout.write(
                f"{design.pk}\t{design.owner}\t{design.name}\t{design.node_count}\t"
                f"{design.link_count}\t{design.title}"
            )

    def handle_deploy(self, options: Namespace) -> None:
        from editor import lab

        design = find_design(options.design)
        lab.deploy(design, host_mode=options.host_mode, out=self.stdout.write)

    def handle_apply(self, options: Namespace) -> None:
        from editor import lab

        design = find_design(options.design)
        lab.apply(design, dry_run=options.dry_run, out=self.stdout.write)

    def handle_status(self, options: Namespace) -> None:
        from editor import lab

        design = find_design(options.design)
        report = lab.status(design)
        if options.json:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(f"{design.name}: {report['state']}")
        for node, facts in report["nodes"].items():
            self.stdout.write(f"  {node}: {facts['netns'] or '(root namespace)'}")
            for interface in facts.get("interfaces", []):
                addresses = " ".join(interface["addresses"])
                self.stdout.write(
                    f"    {interface['name']} {interface['state']} {interface['mac']} {addresses}"
                )

    def handle_check(self, options: Namespace) -> None:
        from editor import lab

        drift = lab.check(find_design(options.design))
        for item in drift:
            self.stdout.write(f"{item['node']}: {item['message']}")
        if drift:
            raise CommandError(f"{len(drift)} differences between the kernel and the design")
        self.stdout.write("the kernel matches the design")

    def handle_ping(self, options: Namespace) -> None:
        from editor import lab

        design = find_design(options.design)
        lab.ping(design, options.source, options.target, options.count, out=self.stdout.write)

    def handle_explain(self, options: Namespace) -> None:
        from editor import explaining

        design = find_design(options.design)
        try:
            if options.matrix:
                cells = explaining.matrix(design)
                if options.json:
                    self.stdout.write(json.dumps(cells, indent=2))
                    return
                for cell in cells:
                    mark = "ok" if cell["reachable"] else cell["outcome"]
                    self.stdout.write(
                        f"{cell['source']} -> {cell['address']} ({cell['node']}): {mark}"
                    )
                return
            if not options.source or not options.target:
                raise CommandError("explain needs SOURCE and TARGET (or --matrix)")
            answer = explaining.explain(
                design, options.source, options.target, protocol=options.protocol, port=options.port
            )
            if options.observe:
                answer = explaining.observe(design, design.owner, answer)
        except explaining.CannotExplain as error:
            raise CommandError(str(error)) from None
        if options.json:
            self.stdout.write(json.dumps(answer, indent=2))
            return
        self.stdout.write(f"{answer['outcome']}: {answer['reason']}")
        for title, hops in (("request", answer["hops"]), ("reply", answer["reply"] or [])):
            if hops:
                self.stdout.write(f"{title}:")
            for hop in hops:
                mark = "  " if hop["ok"] else "✗ "
                self.stdout.write(f"  {mark}{hop['node']}: {hop['note']}")
                for field in ("route", "nat"):
                    if hop[field]:
                        self.stdout.write(f"      {field}: {hop[field]}")
        for fix in answer["fixes"]:
            self.stdout.write(f"fix: {fix['sentence']}")
        if "observed" in answer:
            agrees = "agrees" if answer["agrees"] else "DISAGREES"
            self.stdout.write(f"observed: {answer['observed']['said']} ({agrees})")

    def handle_capture(self, options: Namespace) -> None:
        from editor import lab

        lab.capture(
            find_design(options.design),
            options.node,
            options.interface,
            seconds=options.seconds,
            count=options.count,
            bpf=options.filter,
            write=options.write,
            out=self.stdout.write,
        )

    def handle_exec(self, options: Namespace) -> None:
        from editor import console

        design = find_design(options.design)
        # One word is the line as typed ('ip -br a', '!cat /etc/hosts'); several are quoted.
        words = options.words
        line = words[0] if len(words) == 1 else shlex.join(words)
        try:
            outcome = console.run_line(
                design,
                options.node,
                line,
                user=design.owner,
                out=lambda text: self.stdout.write(text, ending=""),
            )
        except console.ConsoleRefused as error:
            raise CommandError(str(error)) from None
        if outcome.exit_code:
            raise CommandError(f"exit status {outcome.exit_code}", returncode=outcome.exit_code)

    def handle_destroy(self, options: Namespace) -> None:
        from editor import lab

        user = find_user(options.user) if options.user else None
        lab.destroy(find_design(options.design), out=self.stdout.write, user=user)

    def handle_cleanup(self, options: Namespace) -> None:
        from editor import lab

        removed = lab.cleanup()
        for name in removed:
            self.stdout.write(f"removed {name}")
        self.stdout.write(f"{len(removed)} orphans removed")

    def handle_token(self, options: Namespace) -> None:
        from editor import services

        user = find_user(options.user)
        self.stdout.write(services.create_token(user=user, name=options.name))

    def handle_ensure_admin(self, options: Namespace) -> None:
        from editor import services

        password = services.ensure_admin()
        if password is not None:
            self.stdout.write(
                "Created the admin account. Log in at http://127.0.0.1:"
                f"{os.environ.get('NETLAB_PORT', '8000')}/login/ as:\n"
                f"  user:     admin\n  password: {password}\n"
                "(shown once; change it with: .venv/bin/python manage.py changepassword admin)"
            )

    def handle_serve(self, options: Namespace) -> None:
        self.check(display_num_errors=True)
        # Twisted's reactor must be installed before anything else imports Twisted.
        from daphne.server import Server
        from twisted.internet import reactor

        from editor.worker import Worker
        from netlab.asgi import application

        def start_worker() -> None:
            # The embedded layout: the worker shares daphne's event loop, so the in-memory
            # channel layer reaches it. Twisted calls this before the loop runs, once daphne
            # made it the current loop. The reference keeps the task from being collected.
            worker_tasks.append(asyncio.get_event_loop().create_task(Worker().run()))

        worker_tasks: list[asyncio.Task[None]] = []
        reactor.callWhenRunning(start_worker)
        endpoint = f"tcp:port={options.port}:interface={options.host}"
        self.stdout.write(f"netlab is serving on http://{options.host}:{options.port}/")
        Server(application=application, endpoints=[endpoint], verbosity=1).run()

    def handle_worker(self, options: Namespace) -> None:
        from django.conf import settings

        from editor.deployments import sites
        from editor.worker import Worker

        self.check(display_num_errors=True)
        if not settings.REDIS_URL:
            # Nothing but this process can reach an in-memory layer: deployments are still
            # found by polling the database, but pages get no events and probes no answer.
            self.stderr.write(
                "warning: NETLAB_REDIS_URL is not set; run the worker inside `netlab serve`, "
                "or point both at the same Redis"
            )
        site = options.site
        if site is not None or options.underlay is not None:
            site = site or sites.default_name()
            if not options.underlay:
                raise CommandError(f"site {site}: --underlay ADDRESS is needed with --site")
            if options.max_labs < 0 or options.max_namespaces < 0:
                raise CommandError("--max-labs and --max-namespaces are counts (0: no limit)")
        settings_of_site = {
            "site": site,
            "underlay": options.underlay or "",
            "max_labs": options.max_labs,
            "max_namespaces": options.max_namespaces,
        }
        try:
            worker = Worker(**settings_of_site)
        except sites.BadSite as error:
            raise CommandError(str(error)) from None
        where = f" for site {site} ({worker.underlay})" if site else ""
        self.stdout.write(f"netlab worker {worker.name}{where} started")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run_worker(lambda: Worker(**settings_of_site)))


async def _run_worker(worker_class: Any) -> None:
    """Run a worker until SIGTERM or SIGINT; stopping it stops its monitors."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(worker_class().run())
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task
