package dev.runcible.core.container;

import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
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
import dev.runcible.core.runtime.UserIds;
import dev.runcible.core.runtime.UserResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * One launch, steps 6 to 8: the checks that need the caller (its cgroup parent, its binds, the ids it may run as),
 * the record and layer mounts under the run directory lock, the container's own root filesystem and runtime
 * config outside it, and the shim; anything that fails on the way is undone.
 */
final class ContainerLaunch {
    private static final long START_TIMEOUT_MS = 60_000;
    /** How often the start wait looks at the shim itself, in case it ended without a word in the bundle. */
    private static final long SHIM_CHECK_MS = 20;
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
    private final EventLog eventLog;
    private final CoreConfig config;

    ContainerLaunch(RunDirectory runDir, ImageResolver resolver, Runc runc, Mounter mounter, LayerMounts layerMounts,
            BindPolicy bindPolicy, ContainerStates states, ContainerSpecs specs, ContainerRemoval removal,
            NodeCollection collection, EventLog eventLog, CoreConfig config) {
        this.runDir = runDir;
        this.resolver = resolver;
        this.runc = runc;
        this.mounter = mounter;
        this.layerMounts = layerMounts;
        this.bindPolicy = bindPolicy;
        this.states = states;
        this.specs = specs;
        this.removal = removal;
        this.collection = collection;
        this.eventLog = eventLog;
        this.config = config;
    }

    /** Validates, resolves, mounts and starts; returns once the container runs (or has already exited). */
    ContainerManager.Started run(Caller caller, RunRequest request) throws RuncibleException {
        request.checkName();
        ProcessPlan.checkResolved(request);
        request.options().check();
        String cgroupParent = cgroupParent(caller, request.options());
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
            List<Path> lowers = runDir.locked(() -> register(caller, record, files, image));
            prepare(caller, record, files, image, request, binds, lowers);
            return start(record, files);
        } finally {
            Creations.end(files);
        }
    }

    /** The launch's cgroup parent; a caller other than root keeps to the configured one or below it. */
    private String cgroupParent(Caller caller, RunOptions options) throws PolicyViolationException {
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
    private List<Path> register(Caller caller, ContainerRecord record, ContainerFiles files, ResolvedImage image)
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
    private void prepare(Caller caller, ContainerRecord record, ContainerFiles files, ResolvedImage image,
            RunRequest request, List<BindMount> binds, List<Path> lowers) throws RuncibleException {
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
    private ContainerManager.Started start(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        try {
            return startOrFail(record, files);
        } catch (RuncibleException | RuntimeException | Error e) {
            if (Files.exists(files.record())) {
                removal.force(record, files);
            }
            throw e;
        }
    }

    private ContainerManager.Started startOrFail(ContainerRecord record, ContainerFiles files)
            throws RuncibleException {
        Process shim = runc.start(files.bundle(), record.id(), ExitRelease.hook(runDir, record.id(),
                config.keepLayerMounts(), runc.binary()), "\"id\":\"" + record.id() + "\",\"name\":\""
                + record.name() + "\",\"owner\":" + record.owner());
        try (WatchService watch = files.dir().getFileSystem().newWatchService()) {
            // runc writes its pid file (a new name in the bundle) once the container exists; the shim writes the
            // exit code there when runc ends. inotify wakes this thread at either, with no polling in between.
            files.dir().register(watch, StandardWatchEventKinds.ENTRY_CREATE);
            RunDirectory.writeAtomically(files.shimPid(), ProcessIdentity.of(shim.pid()).format()
                    .getBytes(StandardCharsets.US_ASCII));
            long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
            while (!Files.exists(files.containerPid()) && shim.isAlive()) {
                if (System.currentTimeMillis() > deadline) {
                    throw new ContainerRuntimeException("Container " + record.shortId() + " did not start within "
                            + START_TIMEOUT_MS / 1000 + " s; it was removed");
                }
                WatchKey key = watch.poll(SHIM_CHECK_MS, TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
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
        return new ContainerManager.Started(record, files, shim);
    }
}
