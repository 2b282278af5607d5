package dev.runcible.core.cli;

import dev.runcible.core.Runcible;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.Executables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

@Command(name = "doctor", description = "Check that this node can run containers, and say how to fix what is missing.")
final class DoctorCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    private int failures;

    @Override
    public Integer call() throws Exception {
        check(Host.isRoot(), "running as root", "run runcible as root (it mounts layers and starts runc)");
        try (Runcible runcible = main.open()) {
            String runcName = runcible.config().runcBinary();
            Optional<Path> runc = Executables.find(runcName);
            if (runc.isPresent()) {
                Commands.Result version = Commands.run(List.of(runc.get().toString(), "--version"), 10);
                check(version.ok(), "runc: " + runc.get() + " (" + version.stdout().lines().findFirst().orElse("?")
                        + ")", "'" + runc.get() + " --version' fails: " + version.message());
            } else {
                check(false, "runc binary '" + runcName + "'", "apt-get install runc, or set runcible.runc.binary");
            }
            check(Executables.find("setsid").isPresent() && Executables.find("mount").isPresent(),
                    "util-linux (mount, setsid)", "apt-get install util-linux mount");
            main.out().println("[INFO] mounts through " + dev.runcible.core.mount.Mounter.how());
            check(Files.exists(Path.of("/dev/loop-control")), "loop devices (/dev/loop-control)",
                    "load the loop module ('modprobe loop'); in a container, create the node with "
                            + "'mknod /dev/loop-control c 10 237' and allow block devices 7:*");
            String filesystems = Files.readString(Path.of("/proc/filesystems"));
            check(filesystems.contains("\tsquashfs") || modprobe("squashfs"), "squashfs filesystem",
                    "load the squashfs module ('modprobe squashfs')");
            check(filesystems.contains("\toverlay") || modprobe("overlay"), "overlay filesystem",
                    "load the overlay module ('modprobe overlay')");
            boolean v2 = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers"));
            boolean v1 = Files.isDirectory(Path.of("/sys/fs/cgroup/memory"))
                    && Files.isDirectory(Path.of("/sys/fs/cgroup/pids"));
            check(v1 || v2, "cgroups (" + (v2 ? "v2" : v1 ? "v1" : "none") + ")",
                    "mount the cgroup hierarchies under /sys/fs/cgroup (memory, cpu, pids controllers)");
            Path runDir = runcible.config().runDir();
            check(writable(runDir), "run directory " + runDir, "make it a writable local directory or set "
                    + "runcible.run.dir");
            if (Host.isRoot()) {
                boolean ioUring = runcible.lazyConfig().ioUring();
                Optional<String> fuse = dev.runcible.core.lazy.FuseProbe.run(runDir.resolve("lazy"), ioUring);
                boolean lazy = runcible.lazyConfig().enabled();
                if (lazy || fuse.isEmpty()) {
                    check(fuse.isEmpty(), "FUSE, for lazy layers (squashfs.lazy" + (lazy ? "=true" : "") + ")",
                            "load the fuse module ('modprobe fuse'), or set squashfs.lazy=false: " + fuse.orElse(""));
                } else {
                    main.out().println("[INFO] FUSE cannot serve lazy layers here (" + fuse.get() + "); "
                            + "squashfs.lazy is off, so layers are fetched whole");
                }
                if (lazy && fuse.isEmpty()) {
                    main.out().println(!ioUring ? "[INFO] lazy layers' FUSE requests come through /dev/fuse "
                            + "(squashfs.lazy.io-uring=false)"
                            : dev.runcible.core.lazy.FuseProbe.ioUringEnabled()
                            ? "[INFO] lazy layers' FUSE requests come through io_uring"
                            : "[INFO] lazy layers' FUSE requests come through /dev/fuse: this node has FUSE over "
                            + "io_uring off; 'echo Y > /sys/module/fuse/parameters/enable_uring' (or "
                            + "fuse.enable_uring=1 at boot) lets them come through io_uring, faster (README: FUSE "
                            + "over io_uring)");
                }
            }
            check(Executables.find("tar2sqfs").isPresent(), "tar2sqfs (needed by import)",
                    "apt-get install squashfs-tools-ng");
            if (Executables.find("tar2sqfs").isPresent() && Host.isRoot()) {
                LayerProbe probe = LayerProbe.run(runcible.localizer(), runDir);
                check(probe.mounted(), "squashfs layers as written here (" + probe.compressor() + ") mount on this "
                        + "kernel", "this kernel cannot mount " + probe.compressor() + " squashfs (" + probe.error()
                        + "); set squashfs.compression to a compressor it has: gzip is in every kernel");
            }
        }
        main.out().println(failures == 0 ? "All checks passed." : failures + " check(s) failed.");
        return failures == 0 ? 0 : 1;
    }

    private static boolean modprobe(String module) {
        try {
            return Executables.find("modprobe").isPresent()
                    && Commands.run(List.of("modprobe", module), 10).ok()
                    && Files.readString(Path.of("/proc/filesystems")).contains("\t" + module);
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean writable(Path dir) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".doctor", ".tmp");
            Files.delete(probe);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void check(boolean ok, String what, String fix) {
        if (ok) {
            main.out().println("[ OK ] " + what);
        } else {
            failures++;
            main.out().println("[FAIL] " + what + " -- fix: " + fix);
        }
    }
}
