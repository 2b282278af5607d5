package dev.runcible.benchmarks;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.host.Commands;
import dev.runcible.core.host.MountTable;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Load test (a program, not a test in CI): launch, kill and remove containers many times, several at once, on
 * this machine, then count what leaked: mounts, loop devices, cgroups and container directories. Needs root.
 *
 * <p>Usage: {@code sudo bin/benchmark load [--cycles 200] [--parallel 4]}
 */
public final class LoadTest {
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int cycles = 200;
        int parallel = 4;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--cycles" -> cycles = Integer.parseInt(args[++i]);
                case "--parallel" -> parallel = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("Unknown option " + args[i]);
            }
        }
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        Path work = Files.createTempDirectory("runcible-load-");
        Path rootfs = Files.createDirectories(work.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
        Files.createSymbolicLink(rootfs.resolve("sleep"), Path.of("busybox"));
        // No idle layer mounts kept: whatever is mounted at the end was left behind by a cycle.
        Map<String, String> settings = Map.of("local.root", work.resolve("store").toString(),
                "squashfs.cache.dir", work.resolve("cache").toString(), "runcible.run.dir", work.resolve("run")
                        .toString(), "runcible.layer-mounts.keep", "0");
        List<String> ids = Collections.synchronizedList(new ArrayList<>());
        long loopBefore = loopDevices(work);
        long start = System.nanoTime();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()), LoadTest.class.getClassLoader())) {
            try (ImageStore store = runcible.openStore(work.resolve("store").toUri())) {
                new RootfsImporter(runcible.localizer()).importDirectory(rootfs.getParent(), List.of("load/busybox:1"),
                        ImageChanges.parse(List.of("USER 1000")), store);
            }
            ContainerManager containers = runcible.containers();
            ImageReference image = ImageReference.parse("load/busybox:1");
            ExecutorService pool = Executors.newFixedThreadPool(parallel);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < cycles; i++) {
                futures.add(pool.submit(() -> {
                    try {
                        String id = containers.run(RunRequest.of(image, List.of("sleep", "30"))).record().id();
                        ids.add(id);
                        containers.kill(id, "KILL");
                        int code = containers.await(id);
                        if (code != 137) {
                            failures.add(id + " exited " + code + ", not 137");
                        }
                        containers.remove(id, false);
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                    return null;
                }));
            }
            for (Future<?> future : futures) {
                future.get();
            }
            pool.shutdown();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        long mounts = MountTable.under(work).size();
        long loops = loopDevices(work) - loopBefore;
        long cgroups = 0;
        for (String id : ids) {
            for (String controller : List.of("memory", "cpu", "pids", "devices", "freezer", "blkio", "cpuset")) {
                if (Files.exists(Path.of("/sys/fs/cgroup", controller, "runcible", id))) {
                    cgroups++;
                }
            }
            if (Files.exists(Path.of("/sys/fs/cgroup/runcible", id))) {
                cgroups++;
            }
        }
        long files;
        Path containersDir = work.resolve("run/containers");
        try (Stream<Path> dirs = Files.exists(containersDir) ? Files.list(containersDir) : Stream.empty()) {
            files = dirs.count();
        }
        String report = """
                # Load test

                %s, %d cores: %d launch/kill/rm cycles, %d at a time, in %.1f s (%.0f cycles/s).

                | leaked | count |
                |---|---|
                | mounts | %d |
                | loop devices | %d |
                | cgroups | %d |
                | container directories | %d |
                | failed cycles | %d |
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), cycles, parallel, seconds,
                cycles / seconds, mounts, loops, cgroups, files, failures.size());
        System.out.println(report);
        failures.stream().limit(5).forEach(f -> System.out.println("failure: " + f));
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/load-test.md"), report);
        Results.write(home, "load-test", List.of(new Results.Figure("leaks after " + cycles + " launch/kill/rm cycles",
                mounts + loops + cgroups + files + failures.size(), 0, true, "")));
        if (mounts == 0) {
            RegistryPullBenchmark.delete(work);
        }
        System.exit(mounts + loops + cgroups + files + failures.size() == 0 ? 0 : 1);
    }

    private static long loopDevices(Path work) throws Exception {
        return Commands.run(List.of("losetup", "-a"), 10).stdout().lines().filter(l -> l.contains(work.toString()))
                .count();
    }

}
