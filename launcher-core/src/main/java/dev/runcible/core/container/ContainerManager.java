package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.ConfigurationException;
import dev.runcible.api.Digest;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.cgroup.CgroupStats;
import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.image.ImageResolver;
import dev.runcible.core.mount.LayerMounts;
import dev.runcible.core.mount.Mounter;
import dev.runcible.core.runtime.BindPolicy;
import dev.runcible.core.runtime.Runc;
import dev.runcible.core.runtime.SeccompProfile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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

    private final RunDirectory runDir;
    private final Runc runc;
    private final LayerMounts layerMounts;
    private final ContainerStates states;
    private final ContainerRemoval removal;
    private final NodeCollection collection;
    private final ContainerCgroups cgroups;
    private final ContainerEvents events;
    private final EventLog eventLog;
    private final ContainerExec execs;
    private final ContainerLaunch launch;
    /** Who this manager acts for: root, or an agent peer that sees only its own containers. */
    private final Caller caller;

    public ContainerManager(RunDirectory runDir, ImageResolver resolver, Runc runc, CoreConfig config,
            ResourcesLocalizer localizer, List<Path> pluginState) throws RuncibleException {
        this.runDir = runDir;
        this.runc = runc;
        Mounter mounter = new Mounter();
        this.layerMounts = new LayerMounts(runDir.layers(), mounter, localizer);
        this.states = new ContainerStates(runDir);
        runDir.secure();
        Optional<JsonNode> seccomp;
        try {
            seccomp = SeccompProfile.load(config.seccompProfile());
        } catch (IOException e) {
            throw new ConfigurationException(List.of("'" + CoreConfig.SECCOMP + "' cannot be used: "
                    + e.getMessage()));
        }
        ContainerSpecs specs = new ContainerSpecs(config.allowRoot(), config.defaultPids(), seccomp,
                ContainerSpecs.existingHostFiles(), HostLimits.openFiles());
        this.cgroups = new ContainerCgroups(ContainerCgroups.ROOT);
        this.removal = new ContainerRemoval(runDir, runc, mounter, layerMounts, states, cgroups,
                config.keepLayerMounts());
        this.collection = new NodeCollection(runDir, states, removal, layerMounts);
        this.eventLog = EventLog.of(runDir);
        this.events = new ContainerEvents(eventLog);
        this.execs = new ContainerExec(runc, config.allowRoot(), config.agent());
        this.launch = new ContainerLaunch(runDir, resolver, runc, mounter, layerMounts, BindPolicy.of(config,
                pluginState), states, specs, removal, collection, eventLog, config);
        this.caller = Caller.ROOT;
    }

    private ContainerManager(ContainerManager shared, Caller caller) {
        this.runDir = shared.runDir;
        this.runc = shared.runc;
        this.layerMounts = shared.layerMounts;
        this.states = shared.states;
        this.removal = shared.removal;
        this.collection = shared.collection;
        this.cgroups = shared.cgroups;
        this.eventLog = shared.eventLog;
        this.events = shared.events;
        this.execs = shared.execs;
        this.launch = shared.launch;
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
        return launch.run(caller, request);
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
     * Node garbage collection: the event log beyond {@link EventLog#ROTATE_BYTES}, half-made containers, and
     * layer mounts that no container uses beyond the
     * {@code keep} most recently used ones. Never a mount in use.
     */
    public Collected collect(int keep) throws RuncibleException {
        try {
            eventLog.rotate(EventLog.ROTATE_BYTES);
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot rotate " + eventLog.file() + ": " + e.getMessage(), e);
        }
        return collection.collect(keep);
    }

    /**
     * For node garbage collection, under the run directory lock: lazy layer servers no loop device reads are
     * stopped, dead ones whose layer a container uses are started again, other dead ones cleaned away with the
     * layer mount they leave.
     */
    public dev.runcible.core.lazy.LazyLayers.Collected collectLazyLayers() throws RuncibleException {
        return runDir.locked(() -> layerMounts.collectLazy(referencedLayers()));
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
