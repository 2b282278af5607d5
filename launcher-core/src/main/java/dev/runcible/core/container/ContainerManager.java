package dev.runcible.core.container;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.ConfigurationException;
import dev.runcible.api.Digest;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.api.ResourcesLocalizer;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.config.CoreConfig;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.image.ImageResolver;
import dev.runcible.core.image.Json;
import dev.runcible.core.image.ResolvedImage;
import dev.runcible.core.mount.LayerMounts;
import dev.runcible.core.mount.Mounter;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.BindPolicy;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Runc;
import dev.runcible.core.runtime.RuntimeConfigBuilder;
import dev.runcible.core.runtime.RuntimeSpec;
import dev.runcible.core.runtime.SeccompProfile;
import dev.runcible.core.runtime.UserIds;
import dev.runcible.core.runtime.UserResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates, starts, lists, signals, waits for and removes containers (steps 6 to 9 of a launch). All state lives in
 * the run directory, so any launcher process, including one started after a crash, sees the same containers.
 */
public final class ContainerManager {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerManager.class);
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}");
    /** What an id or a short id looks like: a name may not, or it could stand in for another container. */
    private static final Pattern ID_LIKE = Pattern.compile("[0-9a-f]{12,64}");
    /** A signal name (TERM, SIGKILL, RTMIN+3) or a number from 1 to 64. */
    private static final Pattern SIGNAL = Pattern.compile("(?:SIG)?[A-Z][A-Z0-9+-]{1,11}|[1-9]|[1-5][0-9]|6[0-4]");
    private static final List<String> HOST_FILES = List.of("/etc/resolv.conf", "/etc/hosts", "/etc/hostname");
    private static final long START_TIMEOUT_MS = 60_000;
    private static final long STOP_TIMEOUT_MS = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long KILL_GRACE_MS = 5_000;
    private static final ProcessIdentity SELF = ProcessIdentity.self();
    /** Ids of the containers this process's threads are creating now. */
    private static final Set<String> CREATING = ConcurrentHashMap.newKeySet();
    /** The creation locks this process holds, by container id. */
    private static final Map<String, FileChannel> CREATION_LOCKS = new ConcurrentHashMap<>();

    private final RunDirectory runDir;
    private final ImageResolver resolver;
    private final Runc runc;
    private final Mounter mounter;
    private final LayerMounts layerMounts;
    private final ContainerCgroups cgroups = new ContainerCgroups(ContainerCgroups.ROOT);
    private final BindPolicy bindPolicy;
    private final ContainerStates states;
    private final boolean allowRoot;
    private final Optional<JsonNode> seccomp;
    private final long defaultPids;
    private final int keepLayerMounts;

    public ContainerManager(RunDirectory runDir, ImageResolver resolver, Runc runc, CoreConfig config,
            ResourcesLocalizer localizer, List<Path> pluginState) throws RuncibleException {
        this.runDir = runDir;
        this.resolver = resolver;
        this.runc = runc;
        this.mounter = new Mounter();
        this.layerMounts = new LayerMounts(runDir.layers(), mounter, localizer);
        this.allowRoot = config.allowRoot();
        this.defaultPids = config.defaultPids();
        this.keepLayerMounts = config.keepLayerMounts();
        this.bindPolicy = BindPolicy.of(config, pluginState);
        this.states = new ContainerStates(runDir);
        runDir.secure();
        try {
            this.seccomp = SeccompProfile.load(config.seccompProfile());
        } catch (IOException e) {
            throw new ConfigurationException(List.of("'" + CoreConfig.SECCOMP + "' cannot be used: "
                    + e.getMessage()));
        }
    }

    /** A started container: its record, and the supervisor process when this launcher started it. */
    public record Started(ContainerRecord record, ContainerFiles files, Process shim) {
    }

    /** Validates, resolves, mounts and starts; returns once the container runs (or has already exited). */
    public Started run(RunRequest request) throws RuncibleException {
        if (request.name().isPresent() && !NAME.matcher(request.name().get()).matches()) {
            throw new InvalidRequestException("Invalid container name '" + request.name().get()
                    + "': use 1 to 128 of [a-zA-Z0-9_.-], starting with a letter or digit");
        }
        if (request.name().isPresent() && ID_LIKE.matcher(request.name().get()).matches()) {
            throw new InvalidRequestException("Invalid container name '" + request.name().get()
                    + "': 12 to 64 lowercase hex digits look like a container id; pick a name with another character");
        }
        List<BindMount> binds = bindPolicy.check(request.mounts());
        ResolvedImage image = resolver.resolve(request.image());
        String id = HexFormat.of().formatHex(randomBytes());
        ContainerFiles files = runDir.container(id);
        ContainerRecord record = new ContainerRecord(id, request.name().orElse(id.substring(0, 12)),
                request.image().familiarName(), image.manifest().digest().toString(),
                image.layers().stream().map(l -> l.resource().digest().hex()).toList(), Instant.now().toString(),
                request.command(), "/runcible/" + id, SELF.format().strip());
        CREATING.add(id);
        try {
            List<Path> lowers = locked("create container", () -> register(record, files, image));
            prepare(record, files, image, request, binds, lowers);
            return start(record, files);
        } finally {
            CREATING.remove(id);
            releaseCreation(files);
        }
    }

    /** Runs a step under the run directory lock, with its failures as runcible's own. */
    private <T> T locked(String what, RunDirectory.LockedAction<T> action) throws RuncibleException {
        try {
            return runDir.locked(action);
        } catch (RuncibleException e) {
            throw e;
        } catch (Exception e) {
            throw new ContainerRuntimeException("Cannot " + what + ": " + e.getMessage(), e);
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    /**
     * The part of a launch that needs the run directory lock, kept short so concurrent launches do not queue: the
     * name check, the record (which is what holds the image's layers mounted), and the layer mounts themselves.
     * Caller holds the lock. Returns the layer mount points, top first.
     */
    private List<Path> register(ContainerRecord record, ContainerFiles files, ResolvedImage image)
            throws RuncibleException {
        List<ContainerInfo> others = list();
        removeHalfMade(others);
        for (ContainerInfo other : others) {
            if (other.record().name().equals(record.name())) {
                throw new InvalidRequestException("The container name '" + record.name() + "' is in use by "
                        + other.record().shortId() + "; remove it with 'runcible rm " + record.name()
                        + "' or pick another --name");
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
            holdCreation(files);
            writeAtomically(files.record(), Json.MAPPER.writeValueAsBytes(record));
        } catch (IOException e) {
            deleteTree(files.dir());
            throw new ContainerRuntimeException("Cannot create " + files.dir() + ": " + e.getMessage(), e);
        }
        try {
            return layerMounts.acquire(image.layers());
        } catch (RuncibleException | RuntimeException | Error e) {
            dismantle(record, files);
            forget(record, files);
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
            UserIds user = UserResolver.resolve(files.rootfs(), request.user().or(() -> image.config().user()));
            if (user.uid() == 0 && !allowRoot) {
                throw new PolicyViolationException("Image '" + record.image() + "' would run as root (uid 0)"
                        + (request.user().isPresent() ? " as --user asks" : ", its default user")
                        + ", which runcible.allow-root forbids on this node; run it with --user UID[:GID]");
            }
            ProcessPlan plan = ProcessPlan.of(record.image(), image.config(), request, user.home(), System.getenv());
            List<BindMount> allBinds = new ArrayList<>();
            for (String hostFile : HOST_FILES) {
                if (Files.isRegularFile(Path.of(hostFile))) {
                    allBinds.add(new BindMount(Path.of(hostFile), hostFile, true));
                }
            }
            allBinds.addAll(binds);
            Limits limits = request.limits();
            if (limits.pids().isEmpty() && defaultPids > 0) {
                limits = new Limits(limits.memoryBytes(), limits.cpuPercent(), OptionalLong.of(defaultPids));
            }
            RuntimeSpec spec = new RuntimeSpec(plan.args(), plan.env(), plan.cwd(), user, limits, allBinds,
                    record.cgroupsPath(), HostLimits.openFiles(), seccomp, request.network());
            writeAtomically(files.config(), Json.MAPPER.writeValueAsBytes(RuntimeConfigBuilder.build(spec)));
        } catch (Throwable e) {
            // Whatever went wrong (an OutOfMemoryError included), nothing made for the container stays: in the
            // agent the launcher lives on, and a half-made container would hold its layers until it restarts.
            undo(record, files);
            if (e instanceof RuncibleException r) {
                throw r;
            }
            throw new ContainerRuntimeException("Cannot prepare container " + record.shortId() + ": " + e, e);
        }
    }

    /** Starts the shim and waits until runc has started the container; any failure removes it, processes and all. */
    private Started start(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        try {
            return startOrFail(record, files);
        } catch (RuncibleException | RuntimeException | Error e) {
            if (Files.exists(files.record())) {
                forceRemove(record, files);
            }
            throw e;
        }
    }

    private Started startOrFail(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        Process shim = runc.start(files, record.id());
        try {
            writeAtomically(files.shimPid(), ProcessIdentity.of(shim.pid()).format()
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
        return new Started(record, files, shim);
    }

    public List<ContainerInfo> list() throws RuncibleException {
        return states.list();
    }

    /** Finds a container by full id, name, or unique id prefix. */
    public ContainerInfo find(String idOrName) throws RuncibleException {
        return states.find(idOrName);
    }

    public void kill(String idOrName, String signal) throws RuncibleException {
        if (!SIGNAL.matcher(signal).matches()) {
            throw new InvalidRequestException("Invalid signal '" + signal + "': use a name such as TERM or KILL, "
                    + "or a number");
        }
        ContainerInfo info = find(idOrName);
        if (info.state() != ContainerState.RUNNING) {
            throw new InvalidRequestException("Container " + info.record().name() + " is " + info.state().display()
                    + ", not running");
        }
        runc.kill(info.record().id(), signal);
    }

    /** Waits for the container to exit and returns its exit code. */
    public int await(String idOrName) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        ContainerFiles files = runDir.container(info.record().id());
        long sleep = 5;
        long unstartedSince = System.currentTimeMillis();
        while (info.isActive()) {
            // A record without a supervisor is being created, or was left half-made by a launcher that died.
            if (!Files.exists(files.shimPid())
                    && System.currentTimeMillis() - unstartedSince > START_TIMEOUT_MS) {
                throw new ContainerRuntimeException("Container " + info.record().name() + " was never started; "
                        + "remove it with 'runcible rm " + info.record().name() + "'");
            }
            if (Files.exists(files.shimPid())) {
                unstartedSince = System.currentTimeMillis();
            }
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ContainerRuntimeException("Interrupted while waiting for " + info.record().name());
            }
            sleep = Math.min(sleep * 2, 100);
            info = ContainerStates.inspect(info.record(), files);
        }
        if (info.state() == ContainerState.DEAD) {
            throw new ContainerRuntimeException("Container " + info.record().name() + " is dead: its supervisor "
                    + "ended without recording an exit code (was the node rebooted?)");
        }
        return info.exitCode().orElseThrow();
    }

    public ContainerFiles files(ContainerInfo info) {
        return runDir.container(info.record().id());
    }

    /** Exit code recorded for a container this launcher started, once its supervisor has ended. */
    public OptionalInt exitCode(ContainerFiles files) {
        return ContainerStates.readExitCode(files);
    }

    public void remove(String idOrName, boolean force) throws RuncibleException {
        ContainerInfo info = find(idOrName);
        if (info.state() == ContainerState.CREATED && !Files.exists(runDir.container(info.record().id()).shimPid())
                && beingCreated(info.record())) {
            // Its launcher is mounting and configuring it outside the run directory lock: even --force waits.
            throw new InvalidRequestException("Container " + info.record().name() + " is being created by process "
                    + info.record().creator().split(" ")[0] + "; try again in a moment");
        }
        if (info.state() == ContainerState.CREATED && Files.exists(runDir.container(info.record().id()).shimPid())
                && !force) {
            throw new InvalidRequestException("Container " + info.record().name() + " is starting; wait or use "
                    + "'rm --force'");
        }
        if (info.state() == ContainerState.RUNNING && !force) {
            throw new InvalidRequestException("Container " + info.record().name() + " is running; stop it with "
                    + "'runcible kill " + info.record().name() + "' or remove it with 'rm --force'");
        }
        forceRemove(info.record(), runDir.container(info.record().id()));
    }

    /**
     * Ends every process of the container and removes it. runc's KILL comes first, so a running container's exit
     * code (137) is recorded; when runc cannot end it (a {@code runc init} that never finished, a runc that failed
     * or was killed), its cgroup is frozen and every process in it killed, then its supervisor and runc.
     */
    private void forceRemove(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        ContainerInfo info = ContainerStates.inspect(record, files);
        // A container without a supervisor was never handed to runc: it has no processes to end.
        if (info.isActive() && Files.exists(files.shimPid())) {
            if (info.state() == ContainerState.RUNNING) {
                try {
                    runc.kill(record.id(), "KILL");
                } catch (ContainerRuntimeException e) {
                    LOG.debug("Kill before removal: {}", e.getMessage());
                }
                awaitInactive(record, files, KILL_GRACE_MS);
            }
            if (ContainerStates.inspect(record, files).isActive()) {
                cgroups.killAll(record.cgroupsPath(), STOP_TIMEOUT_MS);
                killSupervisor(files);
                awaitInactive(record, files, STOP_TIMEOUT_MS);
            }
        }
        undo(record, files);
    }

    private static void awaitInactive(ContainerRecord record, ContainerFiles files, long millis) {
        long deadline = System.currentTimeMillis() + millis;
        while (ContainerStates.inspect(record, files).isActive() && System.currentTimeMillis() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Kills the shim and what runs under it (runc, its hooks), if the recorded shim is still that process. */
    private static void killSupervisor(ContainerFiles files) {
        try {
            ProcessIdentity shim = ProcessIdentity.parse(Files.readString(files.shimPid(),
                    StandardCharsets.US_ASCII));
            if (!shim.isAlive()) {
                return;
            }
            ProcessHandle.of(shim.pid()).ifPresent(handle -> {
                handle.descendants().forEach(ProcessHandle::destroyForcibly);
                handle.destroyForcibly();
            });
        } catch (IOException | RuntimeException e) {
            LOG.debug("No supervisor to kill in {}: {}", files.dir(), e.getMessage());
        }
    }

    /** Removes a container the caller does not hold the lock for: its own parts first, then under the lock. */
    private void undo(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        dismantle(record, files);
        locked("remove " + record.shortId(), () -> {
            forget(record, files);
            return null;
        });
    }

    /**
     * Removes containers whose creating launcher died before starting them (killed mid-launch): they have a record
     * but no supervisor, and their creator is gone. Caller holds the lock. Returns how many went.
     */
    int removeHalfMade(List<ContainerInfo> containers) throws RuncibleException {
        int removed = 0;
        for (ContainerInfo info : containers) {
            ContainerFiles files = runDir.container(info.record().id());
            if (info.state() == ContainerState.CREATED && !Files.exists(files.shimPid())
                    && !beingCreated(info.record())) {
                LOG.warn("Removing container {}: its launcher stopped creating it before starting it",
                        info.record().shortId());
                dismantle(info.record(), files);
                forget(info.record(), files);
                removed++;
            }
        }
        return removed;
    }

    /**
     * Whether a launcher is creating the container now. Its process being alive is not enough: a launcher that
     * lives on (the agent, a library caller) may have given up on it. So the creating thread holds the id in
     * {@link #CREATING} within its process, and a lock on the container's {@code creating} file against others.
     */
    private boolean beingCreated(ContainerRecord record) {
        if (CREATING.contains(record.id())) {
            return true;
        }
        ProcessIdentity creator;
        try {
            creator = ProcessIdentity.parse(record.creator());
        } catch (RuntimeException e) {
            return false;
        }
        if (creator.equals(SELF) || !creator.isAlive()) {
            return false; // this process, where no thread creates it; or a launcher that died
        }
        Path file = runDir.container(record.id()).creating();
        if (!Files.exists(file)) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            FileLock lock = channel.tryLock();
            if (lock == null) {
                return true;
            }
            lock.release();
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    /** Takes the container's creation lock (a new file: nobody else can hold it). Caller holds the run lock. */
    private static void holdCreation(ContainerFiles files) throws IOException {
        FileChannel channel = FileChannel.open(files.creating(), StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
        try {
            if (channel.tryLock() == null) {
                throw new IOException("the creation lock " + files.creating() + " is held");
            }
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
        CREATION_LOCKS.put(files.dir().getFileName().toString(), channel);
    }

    /** Gives the creation lock back once the container started, or failed and was removed. */
    private static void releaseCreation(ContainerFiles files) {
        FileChannel channel = CREATION_LOCKS.remove(files.dir().getFileName().toString());
        try {
            if (channel != null) {
                channel.close();
            }
            Files.deleteIfExists(files.creating());
        } catch (IOException e) {
            LOG.debug("Cannot release {}: {}", files.creating(), e.getMessage());
        }
    }

    /** What {@link #collect} did. */
    public record Collected(int halfMade, int layerMounts) {
    }

    /**
     * Node garbage collection: half-made containers, and layer mounts that no container uses beyond the
     * {@code keep} most recently used ones (mounts whose cached file was evicted go first: they can serve nobody
     * new). Never a mount in use.
     */
    public Collected collect(int keep) throws RuncibleException {
        try {
            return runDir.locked(() -> {
                int halfMade = removeHalfMade(list());
                Set<Digest> referenced = referencedLayers();
                return new Collected(halfMade, layerMounts.trim(referenced, keep));
            });
        } catch (RuncibleException e) {
            throw e;
        } catch (Exception e) {
            throw new ContainerRuntimeException("Cannot collect: " + e.getMessage(), e);
        }
    }

    /** Layers that some container record lists: they must stay mounted and cached. */
    public Set<Digest> referencedLayers() throws RuncibleException {
        Set<Digest> referenced = new HashSet<>();
        for (ContainerRecord other : states.records()) {
            for (String hex : other.layers()) {
                referenced.add(new Digest(Digest.SHA256, hex));
            }
        }
        return referenced;
    }

    /**
     * Undoes what is the container's alone: runc's state, the root filesystem mount and the writable layer. Needs
     * no lock; the record stays, so the image's layers stay mounted until {@link #forget}.
     */
    private void dismantle(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        runc.delete(record.id());
        // runc removes the cgroup with the container; one left by a runc that failed or was killed goes here.
        if (!cgroups.directories(record.cgroupsPath()).isEmpty()) {
            cgroups.killAll(record.cgroupsPath(), STOP_TIMEOUT_MS);
            cgroups.remove(record.cgroupsPath());
        }
        mounter.unmount(files.rootfs());
        try {
            if (!MountTable.under(files.dir()).isEmpty()) {
                throw new ContainerRuntimeException("Refusing to delete " + files.dir() + ": something is still "
                        + "mounted under it");
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot read the mount table: " + e.getMessage(), e);
        }
        deleteTree(files.upper());
        deleteTree(files.work());
    }

    /** Deletes the record and directory, then releases the layers no one else uses. Caller holds the lock. */
    private void forget(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        deleteTree(files.dir());
        List<Digest> mine = record.layers().stream().map(hex -> new Digest(Digest.SHA256, hex)).toList();
        layerMounts.release(mine, referencedLayers(), keepLayerMounts);
    }

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        RunDirectory.writeAtomically(target, bytes);
    }

    /** Deletes a directory tree without following symbolic links (the upper dir holds tenant-written files). */
    static void deleteTree(Path dir) throws ContainerRuntimeException {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Used by tests and doctor: the layer mount directory. */
    public LayerMounts layerMounts() {
        return layerMounts;
    }
}
