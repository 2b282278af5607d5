package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.ConfigurationException;
import dev.runcible.api.Digest;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.core.cgroup.CgroupStats;
import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.image.ImageResolver;
import dev.runcible.core.image.Json;
import dev.runcible.core.image.ResolvedImage;
import dev.runcible.core.mount.LayerMounts;
import dev.runcible.core.mount.Mounter;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.BindPolicy;
import dev.runcible.core.runtime.Runc;
import dev.runcible.core.runtime.SeccompProfile;
import dev.runcible.core.runtime.UserIds;
import dev.runcible.core.runtime.UserResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The lifecycle of containers (steps 6 to 9 of a launch): create, start, list, signal, wait for and remove. What
 * a container runs is decided by {@link ContainerSpecs}, taking one apart by {@link ContainerRemoval}, and what a
 * node collects by {@link NodeCollection}. All state lives in the run directory, so any launcher process, including
 * one started after a crash, sees the same containers.
 */
public final class ContainerManager {
    /** A signal name (TERM, SIGKILL, RTMIN+3) or a number from 1 to 64. */
    private static final Pattern SIGNAL = Pattern.compile("(?:SIG)?[A-Z][A-Z0-9+-]{1,11}|[1-9]|[1-5][0-9]|6[0-4]");
    private static final long START_TIMEOUT_MS = 60_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RunDirectory runDir;
    private final ImageResolver resolver;
    private final Runc runc;
    private final Mounter mounter;
    private final LayerMounts layerMounts;
    private final BindPolicy bindPolicy;
    private final ContainerStates states;
    private final ContainerSpecs specs;
    private final ContainerRemoval removal;
    private final NodeCollection collection;
    private final int keepLayerMounts;
    private final ContainerCgroups cgroups;
    private final ContainerEvents events;
    private final EventLog eventLog;
    private final ContainerExec execs;
    private final CoreConfig config;
    /** Who this manager acts for: root, or an agent peer that sees only its own containers. */
    private final Caller caller;

    public ContainerManager(RunDirectory runDir, ImageResolver resolver, Runc runc, CoreConfig config,
            ResourcesLocalizer localizer, List<Path> pluginState) throws RuncibleException {
        this.runDir = runDir;
        this.resolver = resolver;
        this.runc = runc;
        this.mounter = new Mounter();
        this.layerMounts = new LayerMounts(runDir.layers(), mounter, localizer);
        this.bindPolicy = BindPolicy.of(config, pluginState);
        this.states = new ContainerStates(runDir);
        runDir.secure();
        Optional<JsonNode> seccomp;
        try {
            seccomp = SeccompProfile.load(config.seccompProfile());
        } catch (IOException e) {
            throw new ConfigurationException(List.of("'" + CoreConfig.SECCOMP + "' cannot be used: "
                    + e.getMessage()));
        }
        this.specs = new ContainerSpecs(config.allowRoot(), config.defaultPids(), seccomp,
                ContainerSpecs.existingHostFiles(), HostLimits.openFiles());
        this.cgroups = new ContainerCgroups(ContainerCgroups.ROOT);
        this.removal = new ContainerRemoval(runDir, runc, mounter, layerMounts, states, cgroups,
                config.keepLayerMounts());
        this.collection = new NodeCollection(runDir, states, removal, layerMounts);
        this.keepLayerMounts = config.keepLayerMounts();
        this.eventLog = EventLog.of(runDir);
        this.events = new ContainerEvents(eventLog);
        this.execs = new ContainerExec(runc, config.allowRoot(), config.agent());
        this.config = config;
        this.caller = Caller.ROOT;
    }

    private ContainerManager(ContainerManager shared, Caller caller) {
        this.runDir = shared.runDir;
        this.resolver = shared.resolver;
        this.runc = shared.runc;
        this.mounter = shared.mounter;
        this.layerMounts = shared.layerMounts;
        this.bindPolicy = shared.bindPolicy;
        this.states = shared.states;
        this.specs = shared.specs;
        this.removal = shared.removal;
        this.collection = shared.collection;
        this.keepLayerMounts = shared.keepLayerMounts;
        this.cgroups = shared.cgroups;
        this.eventLog = shared.eventLog;
        this.events = shared.events;
        this.execs = shared.execs;
        this.config = shared.config;
        this.caller = caller;
    }

    /**
     * This manager acting for a caller: one other than root sees, signals, waits for, execs into and removes only
     * the containers it created, runs them only as {@code runcible.agent.run-as-users} allows, never as uid or gid
     * 0, and binds only what it can read (or write, for {@code :rw}) itself.
     */
    public ContainerManager as(Caller who) {
        return who.equals(caller) ? this : new ContainerManager(this, who);
    }

    /** A started container: its record, and the supervisor process when this launcher started it. */
    public record Started(ContainerRecord record, ContainerFiles files, Process shim) {
    }

    /** What {@link #collect} did. */
    public record Collected(int halfMade, int layerMounts, int exited) {
    }

    /** Validates, resolves, mounts and starts; returns once the container runs (or has already exited). */
    public Started run(RunRequest request) throws RuncibleException {
        request.checkName();
        ProcessPlan.checkResolved(request);
        request.options().check();
        String cgroupParent = cgroupParent(request.options());
        List<BindMount> binds = bindPolicy.check(request.mounts());
        PeerAccess.check(caller, binds);
        ResolvedImage image = resolver.resolve(request.image());
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        String id = HexFormat.of().formatHex(random);
        ContainerFiles files = runDir.container(id);
        ContainerRecord record = new ContainerRecord(id, request.name().orElse(id.substring(0, 12)),
                request.image().familiarName(), image.manifest().digest().toString(),
                image.layers().stream().map(l -> l.resource().digest().hex()).toList(), Instant.now().toString(),
                request.command(), "/" + cgroupParent + "/" + id, Creations.SELF.format().strip(), request.remove(),
                caller.uid());
        Creations.begin(id);
        try {
            List<Path> lowers = runDir.locked(() -> register(record, files, image));
            prepare(record, files, image, request, binds, lowers);
            return start(record, files);
        } finally {
            Creations.end(files);
        }
    }

    /** The launch's cgroup parent; a caller other than root keeps to the configured one or below it. */
    private String cgroupParent(RunOptions options) throws PolicyViolationException {
        String parent = options.cgroupParent().orElse(config.cgroupParent());
        if (!caller.isRoot() && !parent.equals(config.cgroupParent())
                && !parent.startsWith(config.cgroupParent() + "/")) {
            throw new PolicyViolationException("--cgroup-parent '" + parent + "' is outside '" + config.cgroupParent()
                    + "' (" + CoreConfig.CGROUP_PARENT + "), where callers of the agent other than root keep; give '"
                    + config.cgroupParent() + "' or a cgroup below it");
        }
        return parent;
    }

    /**
     * The part of a launch that needs the run directory lock, kept short so concurrent launches do not queue: the
     * name check, the record (which is what holds the image's layers mounted), and the layer mounts themselves.
     * Caller holds the lock. Returns the layer mount points, top first.
     */
    private List<Path> register(ContainerRecord record, ContainerFiles files, ResolvedImage image)
            throws RuncibleException {
        List<ContainerInfo> others = states.list(); // every caller's: names are the node's
        collection.removeHalfMade(others);
        for (ContainerInfo other : others) {
            if (other.record().name().equals(record.name())) {
                throw new InvalidRequestException("The container name '" + record.name() + "' is in use"
                        + (caller.owns(other.record()) ? " by " + other.record().shortId() + "; remove it with "
                                + "'runcible rm " + record.name() + "'" : "") + " or pick another --name");
            }
        }
        try {
            RunDirectory.createPrivateDirectory(files.dir());
            Files.createDirectory(files.rootfs());
            // The upper directory's mode becomes that of the container's '/': 0755, whatever the umask. It is
            // reachable only through the container's own 0700 directory.
            Files.createDirectory(files.upper());
            Files.setPosixFilePermissions(files.upper(), PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.createDirectory(files.work());
            Creations.hold(files);
            RunDirectory.writeAtomically(files.record(), Json.MAPPER.writeValueAsBytes(record));
            eventLog.append("created", record, OptionalInt.empty());
        } catch (IOException e) {
            ContainerRemoval.deleteTree(files.dir());
            throw new ContainerRuntimeException("Cannot create " + files.dir() + ": " + e.getMessage(), e);
        }
        try {
            return layerMounts.acquire(image.layers());
        } catch (RuncibleException | RuntimeException | Error e) {
            removal.dismantle(record, files);
            removal.forget(record, files);
            throw e;
        }
    }

    /**
     * The rest of a launch, outside the lock: the container's own root filesystem and runtime config. The record
     * is written, so a concurrent collection leaves this container's layers alone; a failure here undoes it all.
     */
    private void prepare(ContainerRecord record, ContainerFiles files, ResolvedImage image, RunRequest request,
            List<BindMount> binds, List<Path> lowers) throws RuncibleException {
        try {
            layerMounts.markUsed(image.layers());
            mounter.mountOverlay(layerMounts.directory(), lowers, files.upper(), files.work(), files.rootfs());
            UserIds user = withGroups(UserResolver.resolve(files.rootfs(),
                    request.user().or(() -> image.config().user())), request.options().groupAdd());
            if (!caller.isRoot()) {
                config.agent().checkRunAs("Container " + record.name(), user.uid(), user.gid(),
                        user.additionalGids());
            }
            RunDirectory.writeAtomically(files.config(), Json.MAPPER.writeValueAsBytes(
                    specs.runtimeConfig(record, image.config(), request, user, binds)));
            if (request.attached()) {
                RunDirectory.writeAtomically(files.attached(),
                        Creations.SELF.format().getBytes(StandardCharsets.US_ASCII));
            }
        } catch (Throwable e) {
            // Whatever went wrong (an OutOfMemoryError included), nothing made for the container stays: in the
            // agent the launcher lives on, and a half-made container would hold its layers until it restarts.
            removal.undo(record, files);
            if (e instanceof RuncibleException r) {
                throw r;
            }
            throw new ContainerRuntimeException("Cannot prepare container " + record.shortId() + ": " + e, e);
        }
    }

    private static UserIds withGroups(UserIds user, List<Integer> added) {
        List<Integer> groups = new java.util.ArrayList<>(user.additionalGids());
        added.stream().filter(gid -> gid != user.gid() && !groups.contains(gid)).forEach(groups::add);
        return new UserIds(user.uid(), user.gid(), groups, user.home());
    }

    /** Starts the shim and waits until runc has started the container; any failure removes it, processes and all. */
    private Started start(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        try {
            return startOrFail(record, files);
        } catch (RuncibleException | RuntimeException | Error e) {
            if (Files.exists(files.record())) {
                removal.force(record, files);
            }
            throw e;
        }
    }

    private Started startOrFail(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        Process shim = runc.start(files.bundle(), record.id(), ExitRelease.hook(runDir, record.id(), keepLayerMounts,
                runc.binary()), "\"id\":\"" + record.id() + "\",\"name\":\"" + record.name() + "\",\"owner\":"
                + record.owner());
        try {
            RunDirectory.writeAtomically(files.shimPid(), ProcessIdentity.of(shim.pid()).format()
                    .getBytes(StandardCharsets.US_ASCII));
            long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
            while (!Files.exists(files.containerPid()) && shim.isAlive()) {
                if (System.currentTimeMillis() > deadline) {
                    throw new ContainerRuntimeException("Container " + record.shortId() + " did not start within "
                            + START_TIMEOUT_MS / 1000 + " s; it was removed");
                }
                shim.waitFor(2, TimeUnit.MILLISECONDS);
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot record the supervisor of " + record.shortId() + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerRuntimeException("Interrupted while starting " + record.shortId());
        }
        if (!Files.exists(files.containerPid())) {
            // runc writes the pid file once the container exists: without it, runc failed before the command ran
            // (or the container was removed by force while it started).
            String error = Files.exists(files.record()) ? RuncErrors.lastError(files.stderr())
                    : "it was removed while it started";
            throw new ContainerRuntimeException("Cannot start container from '" + record.image() + "': " + error,
                    RuncErrors.exitCode(error));
        }
        eventLog.append("started", record, OptionalInt.empty());
        return new Started(record, files, shim);
    }

    /** The containers this manager's caller may see. */
    public List<ContainerInfo> list() throws RuncibleException {
        return states.list().stream().filter(info -> caller.owns(info.record())).toList();
    }

    /** Finds a container (of this caller's) by full id, then name, then unique id prefix. */
    public ContainerInfo find(String idOrName) throws RuncibleException {
        return states.find(idOrName, list());
    }

    /**
     * Sends a signal to a running container. Returns false, and sends nothing, when it is not running (it exited,
     * even while the signal was on its way), so a scheduler that kills in a loop needs no state check of its own.
     */
    public boolean kill(String idOrName, String signal) throws RuncibleException {
        if (!SIGNAL.matcher(signal).matches()) {
            throw new InvalidRequestException("Invalid signal '" + signal + "': use a name such as TERM or KILL, "
                    + "or a number");
        }
        ContainerInfo info = find(idOrName);
        if (info.state() != ContainerState.RUNNING) {
            return false;
        }
        try {
            runc.kill(info.record().id(), signal);
            return true;
        } catch (ContainerRuntimeException e) {
            if (ContainerStates.inspect(info.record(), files(info)).state() != ContainerState.RUNNING) {
                return false;
            }
            throw e;
        }
    }

    /** Runs a process in a running container and returns its exit code; its output goes to out and err. */
    public int exec(String idOrName, ExecRequest request, java.io.OutputStream out, java.io.OutputStream err)
            throws RuncibleException {
        ContainerInfo info = find(idOrName);
        return execs.exec(caller, info, files(info), request, out, err);
    }

    /** Memory use and limit, CPU time and pids of a running container, from its cgroup. */
    public CgroupStats stats(String idOrName) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        String path = info.record().cgroupsPath();
        if (info.state() != ContainerState.RUNNING || !CgroupStats.exists(cgroups.root(), path)) {
            throw new InvalidRequestException("Container " + info.record().name() + " is " + info.state().display()
                    + ": only a running container has a cgroup to read");
        }
        try {
            return CgroupStats.read(cgroups.root(), path);
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the cgroup of " + info.record().name() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Whether every process of the container is gone: its cgroup is empty in every hierarchy, or gone. */
    public boolean processesGone(String idOrName) throws RuncibleException {
        return cgroups.isEmpty(find(idOrName).record().cgroupsPath());
    }

    /**
     * Completes with the container's exit code once it exits (at once if it has). One thread follows the node's
     * event log for every future of this launcher; none polls.
     */
    public CompletableFuture<Integer> onExit(String idOrName) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        ContainerFiles files = files(info);
        return events.onExit(info.record().id(), () -> ContainerStates.readExitCode(files));
    }

    /** The node's event log; {@link EventLog#follow} streams it. */
    public EventLog events() {
        return eventLog;
    }

    /** Whether this manager's caller may see the container an event is about. */
    public boolean sees(EventLog.Event event) {
        return caller.isRoot() || event.owner() == caller.uid();
    }

    /** Calls the listener with each event of this caller's containers, until the handle is closed. */
    public AutoCloseable subscribe(java.util.function.Consumer<EventLog.Event> listener) {
        return events.subscribe(event -> {
            if (sees(event)) {
                listener.accept(event);
            }
        });
    }

    /** Stops the event follower, if one was started. */
    public void close() {
        events.close();
    }

    /** Waits for the container to exit and returns its exit code. */
    public int await(String idOrName) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        return ContainerStates.awaitExit(info, runDir.container(info.record().id()), START_TIMEOUT_MS);
    }

    public ContainerFiles files(ContainerInfo info) {
        return runDir.container(info.record().id());
    }

    /** Exit code recorded for a container this launcher started, once its supervisor has ended. */
    public OptionalInt exitCode(ContainerFiles files) {
        return ContainerStates.readExitCode(files);
    }

    public void remove(String idOrName, boolean force) throws RuncibleException {
        removal.remove(find(idOrName), force);
    }

    /**
     * After an attached container's exit: unmounts its root filesystem and releases its layers (or removes it, for
     * {@code --rm}); its record, logs and writable layer stay for {@code ps}, {@code logs} and {@code rm}.
     */
    public void exited(String idOrName) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        removal.exited(info.record(), runDir.container(info.record().id()), true);
    }

    /**
     * Node garbage collection: half-made containers, and layer mounts that no container uses beyond the
     * {@code keep} most recently used ones. Never a mount in use.
     */
    public Collected collect(int keep) throws RuncibleException {
        return collection.collect(keep);
    }

    /** Layers that some container record lists: they must stay mounted and cached. */
    public Set<Digest> referencedLayers() throws RuncibleException {
        return removal.referencedLayers();
    }

    /** Used by tests and doctor: the layer mount directory. */
    public LayerMounts layerMounts() {
        return layerMounts;
    }
}
