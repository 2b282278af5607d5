package dev.runcible.core.container;

import dev.runcible.api.Digest;
import dev.runcible.api.RuncibleException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.cgroup.ContainerCgroups;
import dev.runcible.core.container.RunDirectory.ContainerFiles;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.mount.LayerMounts;
import dev.runcible.core.mount.Mounter;
import dev.runcible.core.runtime.Runc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes containers apart: their processes, runc's state and cgroups, the root filesystem mount, the writable layer,
 * and last, under the run directory lock, the record and the layer mounts nobody else uses. Every step may run
 * twice, or in two threads at once (a launch that fails while {@code rm --force} removes it), and still succeed.
 */
final class ContainerRemoval {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerRemoval.class);
    private static final long KILL_GRACE_MS = 5_000;
    private static final long STOP_TIMEOUT_MS = 10_000;

    private final RunDirectory runDir;
    private final Runc runc;
    private final Mounter mounter;
    private final LayerMounts layerMounts;
    private final ContainerStates states;
    private final ContainerCgroups cgroups;
    private final int keepLayerMounts;

    ContainerRemoval(RunDirectory runDir, Runc runc, Mounter mounter, LayerMounts layerMounts, ContainerStates states,
            ContainerCgroups cgroups, int keepLayerMounts) {
        this.runDir = runDir;
        this.runc = runc;
        this.mounter = mounter;
        this.layerMounts = layerMounts;
        this.states = states;
        this.cgroups = cgroups;
        this.keepLayerMounts = keepLayerMounts;
    }

    /**
     * Ends every process of the container and removes it. runc's KILL comes first, so a running container's exit
     * code (137) is recorded; when runc cannot end it (a {@code runc init} that never finished, a runc that failed
     * or was killed), its cgroup is frozen and every process in it killed, then its supervisor and runc.
     */
    void force(ContainerRecord record, ContainerFiles files) throws RuncibleException {
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

    /** {@code rm}: a running or starting container only with {@code force}, one being created never. */
    void remove(ContainerInfo info, boolean force) throws RuncibleException {
        ContainerFiles files = runDir.container(info.record().id());
        if (info.state() == ContainerState.CREATED && !Files.exists(files.shimPid())
                && Creations.inProgress(info.record(), files)) {
            // Its launcher is mounting and configuring it outside the run directory lock: even --force waits.
            throw new InvalidRequestException("Container " + info.record().name() + " is being created by process "
                    + info.record().creator().split(" ")[0] + "; try again in a moment");
        }
        if (info.state() == ContainerState.CREATED && Files.exists(files.shimPid()) && !force) {
            throw new InvalidRequestException("Container " + info.record().name() + " is starting; wait or use "
                    + "'rm --force'");
        }
        if (info.state() == ContainerState.RUNNING && !force) {
            throw new InvalidRequestException("Container " + info.record().name() + " is running; stop it with "
                    + "'runcible kill " + info.record().name() + "' or remove it with 'rm --force'");
        }
        force(info.record(), files);
    }

    /**
     * After a container's exit, what docker does: its root filesystem is unmounted and its layers released, so an
     * exited container holds no mount; its record, logs and writable layer stay for {@code ps}, {@code logs} and
     * {@code rm}. A {@code --rm} container is removed whole. Called by the attached launcher ({@code byLauncher}),
     * else by the supervisor's exit hook or {@code gc}, which leave a container alone while a launcher waits on it.
     * Returns whether it did anything.
     */
    boolean exited(ContainerRecord record, ContainerFiles files, boolean byLauncher) throws RuncibleException {
        if (ContainerStates.inspect(record, files).state() != ContainerState.EXITED) {
            return false;
        }
        if (!byLauncher && attachedLauncherAlive(files)) {
            return false;
        }
        if (record.removeOnExit()) {
            undo(record, files);
            return true;
        }
        if (Files.exists(files.released())) {
            return false;
        }
        runc.delete(record.id());
        if (!cgroups.directories(record.cgroupsPath()).isEmpty()) {
            cgroups.remove(record.cgroupsPath());
        }
        mounter.unmount(files.rootfs());
        return runDir.locked(() -> {
            if (!Files.exists(files.record())) {
                return false; // removed meanwhile
            }
            try {
                RunDirectory.writeAtomically(files.released(), new byte[0]);
            } catch (IOException e) {
                throw new ContainerRuntimeException("Cannot write " + files.released() + ": " + e.getMessage(), e);
            }
            List<Digest> mine = record.layers().stream().map(hex -> new Digest(Digest.SHA256, hex)).toList();
            layerMounts.release(mine, referencedLayers(), keepLayerMounts);
            return true;
        });
    }

    private static boolean attachedLauncherAlive(ContainerFiles files) {
        try {
            return ProcessIdentity.parse(Files.readString(files.attached(), StandardCharsets.US_ASCII)).isAlive();
        } catch (IOException | RuntimeException e) {
            return false; // detached, or the record of it is unreadable
        }
    }

    /** Removes a container the caller does not hold the lock for: its own parts first, then under the lock. */
    void undo(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        dismantle(record, files);
        runDir.locked(() -> {
            forget(record, files);
            return null;
        });
    }

    /**
     * Undoes what is the container's alone: runc's state, the root filesystem mount and the writable layer. Needs
     * no lock; the record stays, so the image's layers stay mounted until {@link #forget}.
     */
    void dismantle(ContainerRecord record, ContainerFiles files) throws RuncibleException {
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
    void forget(ContainerRecord record, ContainerFiles files) throws RuncibleException {
        deleteTree(files.dir());
        EventLog.of(runDir).append("removed", record, java.util.OptionalInt.empty());
        List<Digest> mine = record.layers().stream().map(hex -> new Digest(Digest.SHA256, hex)).toList();
        layerMounts.release(mine, referencedLayers(), keepLayerMounts);
    }

    /** Layers that some container record lists, but for exited ones that released theirs: they stay mounted. */
    Set<Digest> referencedLayers() throws RuncibleException {
        Set<Digest> referenced = new HashSet<>();
        for (ContainerRecord other : states.records()) {
            if (Files.exists(runDir.container(other.id()).released())) {
                continue;
            }
            for (String hex : other.layers()) {
                referenced.add(new Digest(Digest.SHA256, hex));
            }
        }
        return referenced;
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
}
