package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.host.Commands;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Faults a node meets: a damaged cache, a launcher killed half-way, a full disk, a missing or failing runc, a
 * cached layer deleted under a running container, and launchers racing each other in separate processes.
 */
class FaultIT {
    private static RealNode node;
    private static Path config;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        config = node.configFile("faults", Map.of());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void clean() throws Exception {
        node.removeAllContainers();
    }

    private static Path cachedLayer() throws Exception {
        try (Stream<Path> files = Files.list(node.cache.resolve("layers"))) {
            return files.filter(p -> p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
    }

    private static Process launcher(Map<String, String> env, Path configFile, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config",
                configFile.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        return builder.start();
    }

    @Test
    void aDamagedCachedLayerIsRefusedAndFetchedAgain() throws Exception {
        assertThat(Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "true").exitCode()).isZero();
        Path layer = cachedLayer();
        // A cache file of its own, as one copied from a store elsewhere (a local store on the cache's filesystem is
        // linked, and damage to it would be the store's own).
        Path copy = layer.resolveSibling(layer.getFileName() + ".copy");
        Files.copy(layer, copy);
        Files.move(copy, layer, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(layer, PosixFilePermissions.fromString("rw-r--r--"));
        try (RandomAccessFile file = new RandomAccessFile(layer.toFile(), "rw")) {
            file.seek(file.length() / 2);
            file.write(new byte[] {9, 9, 9, 9});
        }
        Cli damaged = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "true");
        assertThat(damaged.exitCode()).isEqualTo(125);
        assertThat(damaged.err()).contains("Cached layer " + layer + " is damaged").contains("run again");
        assertThat(layer).doesNotExist();
        node.assertNothingLeftRunning();
        Cli again = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "fetched again");
        assertThat(again.out()).isEqualTo("fetched again\n");
    }

    @Test
    void aLauncherKilledMidLaunchLeavesAHalfMadeContainerThatTheNextOneRemoves() throws Exception {
        // A 'mount' that hangs on the overlay: the launcher is killed with its layer mounted and its record written.
        Path bin = Files.createDirectories(node.base.resolve("slow-bin"));
        Path mount = bin.resolve("mount");
        Files.writeString(mount, "#!/bin/sh\ncase \"$*\" in *overlay*) sleep 60;; esac\nexec /bin/mount \"$@\"\n");
        Files.setPosixFilePermissions(mount, PosixFilePermissions.fromString("rwxr-xr-x"));
        Process launcher = launcher(Map.of("PATH", bin + ":" + System.getenv("PATH"), "RUNCIBLE_MOUNT_PROGRAMS", "1"),
                config, "run", "--name", "half", RealNode.IMAGE, "--", "true");
        long deadline = System.currentTimeMillis() + 60_000;
        while (node.mounts().stream().noneMatch(m -> m.fsType().equals("squashfs"))) {
            assertThat(System.currentTimeMillis()).as("layer mounted").isLessThan(deadline);
            Thread.sleep(50);
        }
        Thread.sleep(300);
        // The overlay mount is made outside the run directory lock: another launch goes on meanwhile...
        // (The hung mount lasts 60 s; a launch queued behind it would miss this 30 s bound.)
        Cli other = java.util.concurrent.CompletableFuture.supplyAsync(() -> Cli.run(config, "run", "--rm",
                RealNode.IMAGE, "--", "echo", "not queued")).get(30, TimeUnit.SECONDS);
        assertThat(other.out()).as(other.err()).isEqualTo("not queued\n");
        // ...and a container being created cannot be removed from under its live launcher, even with --force.
        Cli early = Cli.run(config, "rm", "--force", "half");
        assertThat(early.exitCode()).isEqualTo(125);
        assertThat(early.err()).contains("Container half is being created by process " + launcher.pid());
        launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Commands.run(List.of("pkill", "-f", bin.toString()), 5); // the hung mount helper, whose parent is gone
        assertThat(node.containerDirs()).hasSize(1);
        assertThat(Cli.run(config, "ps", "--all").out()).contains("half").contains("created");
        Cli gc = Cli.run(config, "gc");
        assertThat(gc.out()).as(gc.err()).startsWith("Removed 1 half-made container(s)");
        node.assertNothingLeftRunning();
    }

    @Test
    void aLauncherKilledMidLocalizeLeavesNothingVisibleAndTheNextOneSucceeds() throws Exception {
        Path rootfs = node.base.resolve("big-rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(RealNode.BUSYBOX, rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/true"), Path.of("busybox"));
        byte[] noise = new byte[96 << 20];
        new Random(5).nextBytes(noise);
        Files.write(rootfs.resolve("noise"), noise);
        Path store = node.base.resolve("big-store");
        try (var runcible = node.open(Map.of()); var target = runcible.openStore(store.toUri())) {
            new dev.runcible.core.image.RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of("big:1"),
                    dev.runcible.core.image.ImageChanges.parse(List.of("USER 1000")), target);
        }
        Path cache = node.base.resolve("big-cache");
        Path big = node.configFile("big", Map.of("local.root", store.toString(), "squashfs.cache.dir",
                cache.toString()));
        Process launcher = launcher(Map.of(), big, "run", "--rm", "big:1", "--", "true");
        long deadline = System.currentTimeMillis() + 60_000;
        while (!hasPart(cache)) {
            assertThat(System.currentTimeMillis()).as("download started").isLessThan(deadline);
            Thread.sleep(5);
        }
        launcher.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertThat(Files.exists(cache.resolve("layers")) ? Files.list(cache.resolve("layers")).toList() : List.of())
                .as("no partial layer is visible").isEmpty();
        Cli next = Cli.run(big, "run", "--rm", "big:1", "--", "true");
        assertThat(next.exitCode()).as(next.err()).isZero();
        // The killed download's part file is left to gc, which removes it once it is an hour old.
        try (Stream<Path> parts = Files.list(cache.resolve("tmp"))) {
            for (Path part : parts.toList()) {
                Files.setLastModifiedTime(part, FileTime.fromMillis(System.currentTimeMillis() - 7_200_000));
            }
        }
        assertThat(Cli.run(big, "gc").exitCode()).isZero();
        try (Stream<Path> parts = Files.list(cache.resolve("tmp"))) {
            assertThat(parts).isEmpty();
        }
    }

    private static boolean hasPart(Path cache) throws Exception {
        if (!Files.isDirectory(cache.resolve("tmp"))) {
            return false;
        }
        try (Stream<Path> parts = Files.list(cache.resolve("tmp"))) {
            return parts.anyMatch(p -> p.toString().endsWith(".part"));
        }
    }

    @Test
    void aFullDiskDuringLocalizationIsAClearErrorWithNothingCached() throws Exception {
        Path small = Files.createDirectories(node.base.resolve("small-cache"));
        assertThat(Commands.run(List.of("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", small.toString()), 10)
                .ok()).isTrue();
        try {
            Cli full = Cli.run(node.configFile("small", Map.of("squashfs.cache.dir", small.toString())), "run",
                    "--rm", RealNode.IMAGE, "--", "true");
            assertThat(full.exitCode()).isEqualTo(125);
            assertThat(full.err()).contains("No space left on device");
            // The small config blob fits and is whole and verified; no part of the layer may remain.
            try (Stream<Path> files = Files.walk(small)) {
                assertThat(files.filter(Files::isRegularFile).filter(p -> !p.getParent().endsWith("locks"))
                        .filter(p -> !p.getParent().endsWith("config"))).isEmpty();
            }
        } finally {
            Commands.run(List.of("umount", small.toString()), 10);
        }
    }

    @Test
    void aMissingOrFailingRuncIsReportedAndLeavesNothing() throws Exception {
        Cli missing = Cli.run(node.configFile("no-runc", Map.of("runcible.runc.binary", "/nonexistent/runc")), "run",
                RealNode.IMAGE, "--", "true");
        assertThat(missing.exitCode()).isEqualTo(125);
        assertThat(missing.err()).contains("runc binary '/nonexistent/runc' not found").contains("apt-get install runc");
        Path failing = node.base.resolve("failing-runc");
        Files.writeString(failing, "#!/bin/sh\necho 'runc failed on purpose' >&2\nexit 1\n");
        Files.setPosixFilePermissions(failing, PosixFilePermissions.fromString("rwxr-xr-x"));
        Cli failed = Cli.run(node.configFile("bad-runc", Map.of("runcible.runc.binary", failing.toString())), "run",
                RealNode.IMAGE, "--", "true");
        assertThat(failed.exitCode()).isEqualTo(125);
        assertThat(failed.err()).contains("runc failed on purpose");
        node.assertNothingLeftRunning();
    }

    @Test
    void aCachedLayerDeletedUnderARunningContainerDoesNotStopIt() throws Exception {
        assertThat(Cli.run(config, "run", "-d", "--name", "survivor", RealNode.IMAGE, "--", "sleep", "30").exitCode())
                .isZero();
        Path layer = cachedLayer();
        Files.delete(layer);
        assertThat(Cli.run(config, "ps").out()).contains("survivor").contains("running");
        Cli second = Cli.run(config, "run", "--rm", RealNode.IMAGE, "--", "echo", "still works");
        assertThat(second.out()).isEqualTo("still works\n");
        assertThat(Cli.run(config, "rm", "--force", "survivor").exitCode()).isZero();
        assertThat(Cli.run(config, "gc").exitCode()).isZero();
        node.assertNothingLeftRunning();
    }

    @Test
    void gcKeepsRecentLayerMountsEvictsTheCacheAndDropsMountsOfEvictedFiles() throws Exception {
        Path rootfs = node.base.resolve("other-rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(RealNode.BUSYBOX, rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/true"), Path.of("busybox"));
        Files.writeString(rootfs.resolve("other"), "a different layer");
        try (var runcible = node.open(Map.of()); var target = runcible.openStore(node.store.toUri())) {
            new dev.runcible.core.image.RootfsImporter(runcible.localizer()).importDirectory(rootfs, List.of("test/other:1"),
                    dev.runcible.core.image.ImageChanges.parse(List.of("USER 1000")), target);
        }
        Path cache = node.base.resolve("gc-cache");
        Path gcConfig = node.configFile("gc", Map.of("squashfs.cache.dir", cache.toString(),
                "runcible.layer-mounts.keep", "1", "squashfs.cache.max-bytes", "1"));
        assertThat(Cli.run(gcConfig, "run", "--rm", RealNode.IMAGE, "--", "true").exitCode()).isZero();
        assertThat(Cli.run(gcConfig, "run", "--rm", "test/other:1", "--", "true").exitCode()).isZero();
        List<String> mounted = node.mounts().stream().filter(m -> m.fsType().equals("squashfs"))
                .map(m -> Path.of(m.mountPoint()).getFileName().toString()).toList();
        assertThat(mounted).as("keep 1: the most recently used layer stays mounted").hasSize(1);
        String kept = mounted.get(0);
        Cli gc = Cli.run(gcConfig, "gc");
        assertThat(gc.out()).as(gc.err()).contains("0 layer mount(s)");
        try (Stream<Path> layers = Files.list(cache.resolve("layers"))) {
            assertThat(layers.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sqsh")))
                    .as("over max-bytes, only the mounted layer stays cached").containsExactly(kept + ".sqsh");
        }
        // Evicted by hand: the mount can serve no new container, so gc drops it whatever keep says.
        Files.delete(cache.resolve("layers").resolve(kept + ".sqsh"));
        Cli again = Cli.run(gcConfig, "gc");
        assertThat(again.out()).contains("1 layer mount(s)");
        node.assertNothingLeftRunning();
    }

    @Test
    void launchersInSeparateProcessesNeverDoubleMount() throws Exception {
        Path cache = node.base.resolve("race-cache");
        Path race = node.configFile("race", Map.of("squashfs.cache.dir", cache.toString()));
        List<Process> launchers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            launchers.add(launcher(Map.of(), race, "run", "-d", "--name", "racer" + i, RealNode.IMAGE, "--", "sleep",
                    "20"));
        }
        for (Process launcher : launchers) {
            String output = new String(launcher.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(launcher.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(launcher.exitValue()).as(output).isZero();
        }
        assertThat(node.mounts().stream().filter(m -> m.fsType().equals("squashfs"))).hasSize(1);
        assertThat(node.mounts().stream().filter(m -> m.fsType().equals("overlay"))).hasSize(4);
        assertThat(Cli.run(race, "ps").out().lines().filter(l -> l.contains("racer"))).hasSize(4);
        try (Stream<Path> layers = Files.list(cache.resolve("layers"))) {
            assertThat(layers.filter(p -> p.toString().endsWith(".sqsh"))).hasSize(1);
        }
    }
}
