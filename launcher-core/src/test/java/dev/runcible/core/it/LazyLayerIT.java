package dev.runcible.core.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.api.Digest;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.host.ProcessIdentity;
import dev.runcible.core.lazy.LazyLayers;
import dev.runcible.core.lazy.LazyLocalizer;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Lazy layers from a local store, with real FUSE, loop, squashfs, overlay and runc: a container starts having read
 * a small part of its layer, a damaged chunk is never served, a layer completes and its loop device moves to the
 * cache file, a killed server is replaced by gc, and launch after launch leaves nothing behind. The last two also with
 * the FUSE file's requests taken through io_uring: the kernel's switch for it turned on for the test.
 */
class LazyLayerIT {
    private static final String IMAGE = "test/lazy:1";
    /** Random bytes squashfs cannot compress, which no container here reads unless told to. */
    private static final int UNREAD_BYTES = 24 << 20;
    private static RealNode node;
    private static Digest layer;

    @BeforeAll
    static void setUp() throws Exception {
        node = RealNode.create();
        node.importImage(IMAGE, List.of("USER worker", "CMD [\"sh\", \"-c\", \"echo started\"]"), rootfs -> {
            byte[] noise = new byte[UNREAD_BYTES];
            new Random(17).nextBytes(noise);
            Files.createDirectories(rootfs.resolve("data"));
            Files.write(rootfs.resolve("data/unread"), noise);
            Files.writeString(rootfs.resolve("data/small"), "a small file\n");
        });
        layer = layerOf(node.store);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    private String ioUringSwitch;

    @AfterEach
    void nothingLeft() throws Exception {
        node.removeAllContainers();
        assertNoServerLeft();
        if (ioUringSwitch != null) {
            RealNode.setFuseIoUring(ioUringSwitch);
        }
    }

    /**
     * A configuration for test {@code name}, the background fill held off, the FUSE file's requests coming through
     * io_uring if {@code ioUring} (the kernel's switch for it turned on until the test ends) and through /dev/fuse
     * otherwise.
     */
    private Path configThrough(String name, boolean ioUring) throws Exception {
        if (ioUring) {
            ioUringSwitch = RealNode.turnOnFuseIoUring();
        }
        return config(name, Map.of("squashfs.lazy.fill-pause-millis", "60000",
                "squashfs.lazy.io-uring", Boolean.toString(ioUring)));
    }

    /** How many threads of process {@code pid} answer FUSE requests through io_uring. */
    private static long ioUringThreads(long pid) throws java.io.IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.filter(task -> {
                try {
                    return Files.readString(task.resolve("comm")).startsWith("fuse-ring-");
                } catch (java.io.IOException e) {
                    return false; // a thread that ended meanwhile
                }
            }).count();
        }
    }

    /** The test image's one layer: the largest in the store. */
    private static Digest layerOf(Path store) throws Exception {
        try (Stream<Path> files = Files.list(store.resolve("layers"))) {
            Path largest = files.filter(p -> p.toString().endsWith(".sqsh"))
                    .max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
            return new Digest(Digest.SHA256, largest.getFileName().toString().substring(0, 64));
        }
    }

    /** Imports an image of one small layer and deletes the layer's chunk list and its record from the store. */
    private static Digest unindexedImage(String name) throws Exception {
        java.util.Set<Path> before;
        try (Stream<Path> files = Files.list(node.store.resolve("layers"))) {
            before = files.collect(java.util.stream.Collectors.toSet());
        }
        node.importImage(name, List.of("CMD [\"true\"]"),
                rootfs -> Files.writeString(rootfs.resolve("unindexed"), name + "\n"));
        Path sqsh;
        try (Stream<Path> files = Files.list(node.store.resolve("layers"))) {
            sqsh = files.filter(p -> !before.contains(p) && p.toString().endsWith(".sqsh")).findFirst().orElseThrow();
        }
        Files.delete(Path.of(sqsh + ".chunks"));
        Files.delete(Path.of(sqsh + ".chunks.sha256"));
        return new Digest(Digest.SHA256, sqsh.getFileName().toString().substring(0, 64));
    }

    private static Path config(String name, Map<String, String> extra) throws Exception {
        Map<String, String> settings = new java.util.HashMap<>(Map.of("squashfs.lazy", "true",
                "squashfs.cache.dir", node.base.resolve("cache-" + name).toString()));
        settings.putAll(extra);
        return node.configFile(name, settings);
    }

    private static LazyLayers lazy() {
        return new LazyLayers(node.runDir);
    }

    private static LazyLayers.Progress progress() {
        return lazy().progress().stream().filter(p -> p.layer().equals(layer)).findFirst().orElseThrow();
    }

    private static long serverPid() throws Exception {
        Path pid = lazy().directory().resolve(layer.hex()).resolve("pid");
        await("the layer's server recorded", () -> Files.exists(pid), Duration.ofSeconds(10));
        return ProcessIdentity.parse(Files.readString(pid)).pid();
    }

    private static void assertNoServerLeft() throws Exception {
        assertThat(MountTable.under(node.runDir)).as("mounts under the run directory").isEmpty();
        assertThat(lazy().progress()).as("lazy layer servers").isEmpty();
        assertThat(servers()).as("server processes").isEmpty();
    }

    /** The nice values of a process's threads: field 19 of each {@code /proc/PID/task/TID/stat}. */
    private static List<Integer> niceValues(long pid) throws java.io.IOException {
        return niceValues(pid, name -> true);
    }

    /** As {@link #niceValues(long)}, of the threads whose name (the stat's second field) passes {@code which}. */
    private static List<Integer> niceValues(long pid, java.util.function.Predicate<String> which)
            throws java.io.IOException {
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            return tasks.map(task -> {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                    return which.test(name) ? Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2)
                            .split(" ")[16]) : null;
                } catch (java.io.IOException e) {
                    return null; // a thread that ended meanwhile
                }
            }).filter(java.util.Objects::nonNull).toList();
        }
    }

    /** The command lines of this node's layer servers that run now. */
    private static List<String> servers() {
        try (Stream<Path> processes = Files.list(Path.of("/proc"))) {
            return processes.filter(p -> p.getFileName().toString().matches("[0-9]+")).map(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return "";
                }
            }).filter(line -> line.contains("LazyLayerServer\0") && line.contains(node.runDir.toString())).toList();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void await(String what, java.util.function.BooleanSupplier condition, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    void aContainerStartsHavingFetchedASmallPartOfItsLayer() throws Exception {
        Path config = config("start", Map.of("squashfs.lazy.fill-pause-millis", "60000"));
        Cli run = Cli.run(config, "run", "--detach", "--name", "lazy-start", IMAGE, "--", "sh", "-c",
                "cat /data/small; sleep 60");
        assertThat(run.exitCode()).as(run.err()).isZero();
        await("the container's first output", () -> Cli.run(config, "logs", "lazy-start").out()
                .equals("a small file\n"), Duration.ofSeconds(30));
        Thread.sleep(1100); // the server reports once a second
        LazyLayers.Progress progress = progress();
        assertThat(progress.serverAlive()).isTrue();
        assertThat(progress.fetchedBytes()).as("bytes fetched of %d", progress.size()).isPositive()
                .isLessThan(progress.size() / 4);
        assertThat(node.cachedFiles()).as("the layer is not in the cache yet")
                .noneMatch(p -> p.getFileName().toString().equals(layer.hex() + ".sqsh"));
        Cli ps = Cli.run(config, "ps", "--json");
        assertThat(ps.out()).contains("\"completingLayers\"").contains(layer.toString());
    }

    @Test
    void aCompletedLayerMovesItsLoopDeviceToTheCacheFileAndItsServerExits() throws Exception {
        Path config = config("complete", Map.of("squashfs.lazy.fill-pause-millis", "0"));
        Cli run = Cli.run(config, "run", "--detach", "--name", "lazy-complete", IMAGE, "--", "sleep", "60");
        assertThat(run.exitCode()).as(run.err()).isZero();
        await("the server to complete the layer and exit",
                () -> lazy().progress().isEmpty() && servers().isEmpty(), Duration.ofSeconds(60));
        Path cached = node.base.resolve("cache-complete/layers/" + layer.hex() + ".sqsh");
        assertThat(Digest.of(cached)).isEqualTo(Digest.ofHex(Files.readString(cached.resolveSibling(
                cached.getFileName() + ".sha256")).substring(0, 64)));
        MountTable.Mount mount = MountTable.under(node.runDir.resolve("layers")).stream()
                .filter(m -> m.mountPoint().endsWith(layer.hex())).findFirst().orElseThrow();
        String device = mount.source().substring("/dev/".length());
        assertThat(Files.readString(Path.of("/sys/block", device, "loop/backing_file")).strip())
                .isEqualTo(cached.toString());
        assertThat(MountTable.under(lazy().directory())).as("no FUSE file is left mounted").isEmpty();
        Cli exec = Cli.run(config, "exec", "lazy-complete", "--", "cat", "/data/small");
        assertThat(exec.out()).as(exec.err()).isEqualTo("a small file\n");
    }

    @Test
    void aDamagedChunkInTheStoreIsNeverServed() throws Exception {
        Path store = node.base.resolve("damaged-store");
        RealNode.copyTree(node.store, store);
        Path file = store.resolve("layers/" + layer.hex() + ".sqsh");
        try (RandomAccessFile damaged = new RandomAccessFile(file.toFile(), "rw")) {
            long middle = damaged.length() / 2; // inside the unread noise, which is most of the file
            damaged.seek(middle);
            int b = damaged.read();
            damaged.seek(middle);
            damaged.write(b ^ 0xff);
        }
        Path config = config("damaged", Map.of("local.root", store.toString(),
                "squashfs.lazy.fill-pause-millis", "60000", "squashfs.lazy.fetch-timeout-seconds", "5"));
        Cli small = Cli.run(config, "run", "--rm", IMAGE, "--", "cat", "/data/small");
        assertThat(small.out()).as("a read of intact chunks: %s", small.err()).isEqualTo("a small file\n");
        Cli all = Cli.run(config, "run", "--rm", IMAGE, "--", "sh", "-c", "cat /data/unread > /dev/null");
        assertThat(all.exitCode()).as("reading the damaged chunk fails").isNotZero();
        assertThat(all.err()).contains("Input/output error");
        assertThat(node.base.resolve("cache-damaged/layers/" + layer.hex() + ".sqsh")).doesNotExist();
    }

    @ParameterizedTest(name = "io_uring: {0}")
    @ValueSource(booleans = {false, true})
    void gcReplacesAKilledServerAndTheContainerReadsOn(boolean ioUring) throws Exception {
        Path config = configThrough("killed", ioUring);
        Cli run = Cli.run(config, "run", "--detach", "--name", "lazy-killed", IMAGE, "--", "sh", "-c",
                "cat /data/small; sleep 60");
        assertThat(run.exitCode()).as(run.err()).isZero();
        // Killed once the container has read what it runs on: a page it faults in while no server answers is a
        // bus error (exit 135), as a process whose disk fails gets.
        await("the container's output", () -> Cli.run(config, "logs", "lazy-killed").out().equals("a small file\n"),
                Duration.ofSeconds(30));
        long pid = serverPid();
        assertThat(ioUringThreads(pid) > 0).as("the server takes requests through io_uring").isEqualTo(ioUring);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await("the server to die", () -> ProcessHandle.of(pid).isEmpty(), Duration.ofSeconds(10));
        assertThat(Cli.run(config, "gc").exitCode()).isZero();
        assertThat(serverPid()).as("a new server").isNotEqualTo(pid);
        assertThat(progress().serverAlive()).isTrue();
        long replacement = serverPid();
        if (ioUring) { // once the kernel's INIT is answered, which may come after the server says it is ready
            await("the new server to take requests through io_uring", () -> {
                try {
                    return ioUringThreads(replacement) > 0;
                } catch (java.io.IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(10));
        }
        Cli exec = Cli.run(config, "exec", "lazy-killed", "--", "cat", "/data/small");
        assertThat(exec.out()).as(exec.err()).isEqualTo("a small file\n");
    }

    @ParameterizedTest(name = "io_uring: {0}")
    @ValueSource(booleans = {false, true})
    void fiftyLazyLaunchesAndRemovalsLeaveNothingBehind(boolean ioUring) throws Exception {
        Path config = configThrough("cycles", ioUring);
        for (int i = 0; i < 50; i++) {
            Cli run = Cli.run(config, "run", "--rm", IMAGE, "--", "cat", "/data/small");
            assertThat(run.out()).as("launch %d: %s", i, run.err()).isEqualTo("a small file\n");
        }
        assertNoServerLeft();
        try (Stream<Path> left = Files.list(node.base.resolve("cache-cycles/tmp"))) {
            assertThat(left).as("partial layer files").isEmpty();
        }
    }

    @Test
    void theFirstStartRecordsItsReadsAndLaterColdStartsFetchThemFirst() throws Exception {
        Path store = node.base.resolve("prefetch-store");
        RealNode.copyTree(node.store, store);
        Path first = config("record", Map.of("local.root", store.toString(),
                "squashfs.lazy.fill-pause-millis", "60000"));
        // The first lazy start of the layer on this node is this one, whatever the tests before it started.
        Files.deleteIfExists(lazy().directory().resolve(layer.hex() + ".reads"));
        Cli run = Cli.run(first, "run", "--rm", IMAGE, "--", "cat", "/data/small");
        assertThat(run.out()).as(run.err()).isEqualTo("a small file\n");
        byte[] recorded = dev.runcible.core.lazy.PrefetchLists.recordedReads(lazy().directory(), layer).orElseThrow();
        List<String> lines = List.of(new String(recorded, StandardCharsets.US_ASCII).split("\n"));
        assertThat(lines.get(0)).isEqualTo("runcible-prefetch 1");
        int listed = lines.size() - 2;
        assertThat(listed).as("chunks read at start-up").isPositive();
        // The lookups of the container's paths read the directory table, which this start (no list) fetched first
        // with the other tables: were those chunks put in the page cache, no read of them would reach the server
        // and the list would miss them.
        int chunkSize = Integer.parseInt(lines.get(1).substring("chunk-size ".length()));
        long directoryTable;
        try (java.nio.channels.FileChannel layerFile = java.nio.channels.FileChannel.open(
                store.resolve("layers/" + layer.hex() + ".sqsh"))) {
            java.nio.ByteBuffer superblock = java.nio.ByteBuffer.allocate(96).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            layerFile.read(superblock, 0);
            directoryTable = superblock.getLong(72);
        }
        assertThat(lines.subList(2, lines.size())).as("the recorded chunks")
                .contains(Long.toString(directoryTable / chunkSize));
        Cli published = Cli.run(first, "store", "prefetch", "--store", store.toString());
        assertThat(published.out()).as(published.err()).contains("Published 1 prefetch list");
        assertThat(store.resolve("layers/" + layer.hex() + ".sqsh.prefetch")).hasBinaryContent(recorded);

        Path later = config("prefetched", Map.of("local.root", store.toString(),
                "squashfs.lazy.fill-pause-millis", "60000"));
        Cli detached = Cli.run(later, "run", "--detach", "--name", "prefetched", IMAGE, "--", "sleep", "60");
        assertThat(detached.exitCode()).as(detached.err()).isZero();
        await("the prefetch list fetched", () -> progress().chunksPresent() >= listed, Duration.ofSeconds(30));
    }

    @Test
    void aLauncherKilledWithALazyLayerMountedIsCleanedUpByGc() throws Exception {
        Path config = config("killed-launcher", Map.of("squashfs.lazy.fill-pause-millis", "60000"));
        // A 'mount' that hangs on the overlay: the launcher dies with the lazy layer mounted and its server running.
        Path bin = Files.createDirectories(node.base.resolve("hanging-bin"));
        Path mount = bin.resolve("mount");
        Files.writeString(mount, "#!/bin/sh\ncase \"$*\" in *overlay*) sleep 60;; esac\nexec /bin/mount \"$@\"\n");
        Files.setPosixFilePermissions(mount, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.runcible.core.cli.Main", "--config",
                config.toString(), "run", "--name", "orphaned", IMAGE, "--", "true").redirectErrorStream(true)
                .redirectOutput(node.base.resolve("killed-launcher.log").toFile());
        builder.environment().putAll(Map.of("PATH", bin + ":" + System.getenv("PATH"), "RUNCIBLE_MOUNT_PROGRAMS", "1"));
        Process launcher = builder.start();
        await("the lazy layer mounted", () -> {
            try {
                return MountTable.under(node.runDir.resolve("layers")).stream()
                        .anyMatch(m -> m.fsType().equals("squashfs"));
            } catch (java.io.IOException e) {
                return false;
            }
        }, Duration.ofSeconds(60));
        launcher.destroyForcibly().waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        dev.runcible.core.host.Commands.run(List.of("pkill", "-f", bin.toString()), 5);
        assertThat(servers()).as("the server outlives its launcher").hasSize(1);
        Cli gc = Cli.run(config, "gc");
        assertThat(gc.out()).as(gc.err()).startsWith("Removed 1 half-made container(s)");
        assertNoServerLeft();
    }

    @Test
    void aResidentLauncherKeepsASpareServerThatTakesTheNextLazyLayer() throws Exception {
        Map<String, String> settings = node.settingsFor(Map.of("squashfs.lazy", "true",
                "squashfs.lazy.fill-pause-millis", "60000",
                "squashfs.cache.dir", node.base.resolve("cache-spare").toString()));
        try (dev.runcible.core.Runcible runcible = dev.runcible.core.Runcible.open(
                dev.runcible.core.config.Settings.of(settings, Map.of()), LazyLayerIT.class.getClassLoader())) {
            runcible.keepLazySpare();
            dev.runcible.api.ImageReference image = dev.runcible.api.ImageReference.parse(IMAGE);
            // A new server; the spare starts once the layer's start-up reads are over (here, with no container
            // and no fill for a minute, after LazyLocalizer.SPARE_AFTER_SECONDS), warming up on its store.
            runcible.pull(image);
            assertThat(servers()).as("no spare yet").hasSize(1);
            await("a spare beside the server", () -> servers().size() == 2,
                    Duration.ofSeconds(LazyLocalizer.SPARE_AFTER_SECONDS + 30));
            runcible.collect(); // no loop device reads the first server's file: it is stopped
            await("the first server gone", () -> servers().stream().noneMatch(line -> !line.contains("--spare")),
                    Duration.ofSeconds(15));
            assertThat(servers()).singleElement().asString().contains("--spare");
            Path spareDir;
            try (Stream<Path> dirs = Files.list(lazy().directory())) {
                spareDir = dirs.filter(p -> p.getFileName().toString().startsWith("spare-")).findFirst().orElseThrow();
            }
            await("the spare ready", () -> Files.exists(spareDir.resolve("ready")), Duration.ofSeconds(30));
            long spare = ProcessIdentity.parse(Files.readString(spareDir.resolve("pid"))).pid();
            // It warmed up at the lowest priority; ready, it waits at normal priority but for its JIT compilers,
            // which stay at the lowest: no read waits for them.
            java.util.function.Predicate<String> compiler = name -> name.contains("CompilerThre");
            assertThat(niceValues(spare, compiler.negate())).as("a ready spare's threads").containsOnly(0);
            assertThat(niceValues(spare, compiler)).as("its JIT compiler threads").isNotEmpty().containsOnly(19);
            assertThat(MountTable.under(node.runDir)).as("the spare's warm-up mount is gone").isEmpty();
            // A layer its store has no chunk list for, as Storm's or YARN's tools write: the spare finds none, says
            // so and stays a spare; the layer is fetched whole.
            Digest unindexed = unindexedImage("test/unindexed:1");
            runcible.pull(dev.runcible.api.ImageReference.parse("test/unindexed:1"));
            assertThat(node.base.resolve("cache-spare/layers/" + unindexed.hex() + ".sqsh")).as("fetched whole")
                    .exists();
            assertThat(lazy().directory().resolve(unindexed.hex())).as("no server of it").doesNotExist();
            assertThat(Files.exists(spareDir.resolve("ready")) && ProcessHandle.of(spare).isPresent())
                    .as("the spare still waits").isTrue();
            assertThat(niceValues(spare, compiler.negate())).as("still at normal priority").containsOnly(0);
            runcible.pull(image);
            assertThat(serverPid()).as("the spare serves the layer").isEqualTo(spare);
            // Normal priority, but for the threads of background fetches (nice 10) and the JIT compilers.
            assertThat(niceValues(spare, compiler.negate())).as("the threads of a serving spare").contains(0)
                    .doesNotContain(19);
            assertThat(niceValues(spare, compiler)).as("its JIT compiler threads").isNotEmpty().containsOnly(19);
            await("a new spare", () -> servers().size() == 2,
                    Duration.ofSeconds(LazyLocalizer.SPARE_AFTER_SECONDS + 30));
        }
        await("the spare gone with its launcher", () -> servers().size() == 1, Duration.ofSeconds(10));
        try (dev.runcible.core.Runcible runcible = node.open(Map.of("squashfs.lazy", "true"))) {
            runcible.collect();
        }
    }
}
