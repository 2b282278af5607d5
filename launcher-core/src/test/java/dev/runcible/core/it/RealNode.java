package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.host.Executables;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real node for tests: a store, a layer cache and a run directory in a scratch directory, with a sample image
 * built from Debian's busybox-static. Needs root, runc, loop devices, squashfs and overlay. Where those are missing
 * the tests are skipped, unless RUNCIBLE_REQUIRE_ROOT_TESTS=1 (as in CI), where they fail instead.
 */
public final class RealNode implements AutoCloseable {
    public static final String IMAGE = "test/busybox:1";
    static final Path BUSYBOX = Path.of("/bin/busybox");

    public final Path base;
    public final Path store;
    public final Path cache;
    public final Path runDir;
    public final Path shared;

    private RealNode(Path base) throws IOException {
        this.base = base;
        this.store = base.resolve("store");
        this.cache = base.resolve("cache");
        this.runDir = base.resolve("run");
        this.shared = Files.createDirectories(base.resolve("shared"));
    }

    /** The kernel's switch that lets FUSE servers take requests through io_uring ({@code fuse.enable_uring}). */
    private static final Path FUSE_IO_URING_SWITCH = Path.of("/sys/module/fuse/parameters/enable_uring");

    /**
     * Turns on the kernel's switch for FUSE over io_uring, skipping the test where the kernel has none or io_uring
     * is disabled; returns what the switch was, for {@link #setFuseIoUring} to put back.
     */
    public static String turnOnFuseIoUring() throws IOException {
        Assumptions.assumeTrue(Files.exists(FUSE_IO_URING_SWITCH), "this kernel has FUSE over io_uring");
        Path disabled = Path.of("/proc/sys/kernel/io_uring_disabled");
        Assumptions.assumeTrue(!Files.exists(disabled) || Files.readString(disabled).strip().equals("0"),
                "io_uring is not disabled on this node");
        String was = Files.readString(FUSE_IO_URING_SWITCH).strip();
        setFuseIoUring("Y");
        return was;
    }

    /** Sets the kernel's switch for FUSE over io_uring: {@code Y} or {@code N}. */
    public static void setFuseIoUring(String value) throws IOException {
        Files.writeString(FUSE_IO_URING_SWITCH, value);
    }

    public static void requirePrerequisites() {
        List<String> missing = new ArrayList<>();
        if (!"root".equals(System.getProperty("user.name"))) {
            missing.add("root");
        }
        for (String tool : List.of("runc", "tar2sqfs", "tar", "mount", "setsid", "losetup")) {
            if (Executables.find(tool).isEmpty()) {
                missing.add(tool);
            }
        }
        if (!Files.isExecutable(BUSYBOX)) {
            missing.add("busybox-static (" + BUSYBOX + ")");
        }
        if (!Files.exists(Path.of("/dev/loop-control"))) {
            missing.add("/dev/loop-control");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "Real-container tests need " + missing + " (see .ci/run)";
        if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    public static RealNode create() throws Exception {
        requirePrerequisites();
        RealNode node = new RealNode(Files.createTempDirectory("runcible-it-"));
        node.importImage(IMAGE, List.of("ENV GREETING=hello", "WORKDIR /work", "USER worker",
                "CMD [\"sh\", \"-c\", \"echo $GREETING from $(pwd) as $(id -u):$(id -g)\"]"));
        return node;
    }

    /** More content for a test image's root filesystem. */
    public interface RootfsExtras {
        void addTo(Path rootfs) throws Exception;
    }

    /** Builds the busybox root filesystem and imports it into this node's store. */
    void importImage(String name, List<String> changes) throws Exception {
        importImage(name, changes, rootfs -> { });
    }

    /** Builds the busybox root filesystem, adds the extras, and imports it into this node's store. */
    public void importImage(String name, List<String> changes, RootfsExtras extras) throws Exception {
        Path rootfs = base.resolve("rootfs-" + name.replaceAll("[^a-z0-9]", "_"));
        Files.createDirectories(rootfs.resolve("bin"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.createDirectories(rootfs.resolve("tmp"));
        Files.createDirectories(rootfs.resolve("work"));
        Files.copy(BUSYBOX, rootfs.resolve("bin/busybox"));
        for (String applet : List.of("sh", "echo", "cat", "id", "pwd", "sleep", "ls", "env", "true", "grep",
                "unshare")) {
            Files.createSymbolicLink(rootfs.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        Files.writeString(rootfs.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"
                + "worker:x:1000:1000:worker:/work:/bin/sh\n");
        Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nworker:x:1000:\nextra:x:2000:worker\n");
        extras.addTo(rootfs);
        try (Runcible runcible = open(Map.of()); ImageStore target = runcible.openStore(store.toUri())) {
            new RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of(name), ImageChanges.parse(changes), target);
        }
    }

    /** Copies a store (or any tree), making the copies writable so a test can damage them. */
    public static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path source : files.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                    target.toFile().setWritable(true, true);
                }
            }
        }
    }

    /** This node's settings (store, cache, run directory) with overrides. */
    public Map<String, String> settingsFor(Map<String, String> overrides) {
        return settings(overrides);
    }

    Map<String, String> settings(Map<String, String> overrides) {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("local.root", store.toString());
        settings.put("squashfs.cache.dir", cache.toString());
        settings.put("runcible.run.dir", runDir.toString());
        settings.put("runcible.mounts.allowed-ro", shared.toString());
        // The tests check that a removal leaves no mount behind; keeping idle layer mounts (the default) is
        // tested where a test sets it.
        settings.put("runcible.layer-mounts.keep", "0");
        settings.putAll(overrides);
        return settings;
    }

    public Runcible open(Map<String, String> overrides) throws Exception {
        return Runcible.open(Settings.of(settings(overrides), Map.of()), RealNode.class.getClassLoader());
    }

    /** Writes a properties file for the CLI. */
    public Path configFile(String name, Map<String, String> overrides) throws IOException {
        StringBuilder text = new StringBuilder();
        settings(overrides).forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        // A directory of their own: the launcher protects its configuration's directory from read-write mounts.
        Path dir = Files.createDirectories(base.resolve("config"));
        return Files.writeString(dir.resolve(name + ".properties"), text.toString(), StandardCharsets.UTF_8);
    }

    /** Mounts under this node's run directory (layers and container roots). */
    public List<MountTable.Mount> mounts() throws IOException {
        return MountTable.under(runDir);
    }

    public List<Path> containerDirs() throws IOException {
        Path containers = runDir.resolve("containers");
        if (!Files.isDirectory(containers)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(containers)) {
            return dirs.toList();
        }
    }

    /** Files in the cache apart from the per-digest lock files. */
    public List<Path> cachedFiles() throws IOException {
        if (!Files.isDirectory(cache)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(cache)) {
            return files.filter(Files::isRegularFile).filter(p -> !p.getParent().endsWith("locks")).toList();
        }
    }

    /** Removes every container of this node (forcibly), then checks nothing of them is left. */
    public void removeAllContainers() throws Exception {
        try (Runcible runcible = open(Map.of())) {
            for (var container : runcible.containers().list()) {
                runcible.containers().remove(container.record().id(), true);
            }
        }
        assertNothingLeftRunning();
    }

    public void assertNothingLeftRunning() throws IOException {
        assertThat(mounts()).as("mounts under %s", runDir).isEmpty();
        assertThat(containerDirs()).as("container directories").isEmpty();
    }

    @Override
    public void close() throws IOException {
        // A test that failed half-way may have left containers: remove them, unmounting what they hold.
        try (Runcible runcible = open(Map.of())) {
            for (var container : runcible.containers().list()) {
                runcible.containers().remove(container.record().id(), true);
            }
        } catch (Exception e) {
            // best effort; the mount check below still protects the files
        }
        // Never delete through a mount.
        if (!MountTable.under(base).isEmpty()) {
            return;
        }
        try (Stream<Path> files = Files.walk(base)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
