package dev.runcible.core.mount;

import com.sun.jna.LastErrorException;
import dev.runcible.core.ContainerRuntimeException;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts and unmounts through the system calls ({@link SystemMounts}), or util-linux {@code mount} and
 * {@code umount} where those cannot be made; either way a layer's loop device is autoclear, freed with its mount.
 */
public final class Mounter {
    private static final Logger LOG = LoggerFactory.getLogger(Mounter.class);
    private static final long TIMEOUT_SECONDS = 60;

    /** Loop-mounts a squashfs file read-only; {@code loop} gets an autoclear device that umount frees. */
    public void mountSquashfs(Path file, Path target) throws ContainerRuntimeException {
        if (natively("loop mount of " + file + " on " + target, () -> SystemMounts.mountLoop(file.toString(),
                target.toString(), SystemMounts.MS_NOSUID | SystemMounts.MS_NODEV))) {
            return;
        }
        run(List.of("mount", "-t", "squashfs", "-o", "ro,nosuid,nodev,loop", file.toString(), target.toString()),
                null, "mount squashfs layer " + file + " on " + target,
                " (check that /dev/loop-control exists and the squashfs module loads: run 'runcible doctor')");
    }

    /**
     * Mounts an overlay whose lower dirs, top first, all sit in one directory: they are named relative to it, so
     * a deep image stays within the kernel's one-page limit on mount options. It is {@code nosuid,nodev}: the
     * root filesystem is also a host path, and a setuid binary of a tenant's image must not make a local user
     * root from there (inside, {@code noNewPrivileges} makes setuid bits void anyway).
     */
    public void mountOverlay(Path layersDirectory, List<Path> lowerTopFirst, Path upper, Path work, Path target)
            throws ContainerRuntimeException {
        String absolute = "lowerdir=" + lowerTopFirst.stream().map(Path::toString).collect(Collectors.joining(":"))
                + ",upperdir=" + upper + ",workdir=" + work;
        if (absolute.length() <= SystemMounts.MAX_DATA && natively("mount(2) of the overlay on " + target,
                () -> SystemMounts.mount("overlay", target.toString(), "overlay",
                        SystemMounts.MS_NOSUID | SystemMounts.MS_NODEV, absolute))) {
            return;
        }
        // Names relative to the layers directory keep a deep image's lower directories within mount's page.
        String lower = lowerTopFirst.stream()
                .map(p -> p.getParent().equals(layersDirectory) ? p.getFileName().toString() : p.toString())
                .collect(Collectors.joining(":"));
        String options = "nosuid,nodev,lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
        run(List.of("mount", "-t", "overlay", "overlay", "-o", options, target.toString()), layersDirectory,
                "mount the overlay root filesystem on " + target, " (run 'runcible doctor' to check overlay support)");
    }

    /** How mounts are made here, for {@code doctor}. */
    public static String how() {
        return SystemMounts.unavailable().map(why -> "the mount and umount programs (libc through JNA: " + why + ")")
                .orElse("mount(2) and umount2(2) through libc (JNA), loop devices from /dev/loop-control");
    }

    /** Unmounts if mounted; falls back to a lazy unmount when the mount is busy. */
    public void unmount(Path target) throws ContainerRuntimeException {
        try {
            if (!MountTable.isMounted(target)) {
                return;
            }
            if (natively("umount2 of " + target, () -> SystemMounts.unmount(target.toString()))) {
                return;
            }
            Commands.Result result = Commands.run(List.of("umount", target.toString()), TIMEOUT_SECONDS);
            if (result.ok() || !MountTable.isMounted(target)) {
                return; // unmounted, here or by a concurrent removal of the same container
            }
            LOG.warn("umount {} failed ({}); detaching it lazily", target, result.message());
            result = Commands.run(List.of("umount", "-l", target.toString()), TIMEOUT_SECONDS);
            if (!result.ok() && MountTable.isMounted(target)) {
                throw new ContainerRuntimeException("Cannot unmount " + target + ": " + result.message());
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot unmount " + target + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes a call into libc where it loads; false, with the reason logged, where it does not or the call fails, and
     * the caller then runs the program, which says what is wrong in its own words.
     */
    private static boolean natively(String what, Runnable call) {
        if (SystemMounts.unavailable().isPresent()) {
            return false;
        }
        try {
            call.run();
            return true;
        } catch (LastErrorException e) {
            LOG.debug("{} failed ({}); running the program", what, e.getMessage());
            return false;
        }
    }

    private static void run(List<String> command, Path directory, String what, String advice)
            throws ContainerRuntimeException {
        try {
            Commands.Result result = Commands.run(command, directory, TIMEOUT_SECONDS);
            if (!result.ok()) {
                throw new ContainerRuntimeException("Cannot " + what + ": " + result.message() + advice);
            }
        } catch (IOException e) {
            throw new ContainerRuntimeException("Cannot " + what + ": " + e.getMessage() + advice, e);
        }
    }
}
