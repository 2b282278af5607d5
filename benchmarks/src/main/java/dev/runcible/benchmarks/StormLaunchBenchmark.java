package dev.runcible.benchmarks;

import dev.runcible.api.ImageReference;
import dev.runcible.api.ImageStore;
import dev.runcible.core.Runcible;
import dev.runcible.core.config.Settings;
import dev.runcible.core.container.ContainerManager;
import dev.runcible.core.container.RunOptions;
import dev.runcible.core.container.RunRequest;
import dev.runcible.core.image.ImageChanges;
import dev.runcible.core.image.RootfsImporter;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.CpuSet;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import dev.runcible.storm.RuncibleContainerManager;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.UUID;
import org.apache.storm.utils.ConfigUtils;
import org.apache.storm.utils.Utils;

/**
 * A Storm worker's launch through the adapter (from {@code launchWorkerProcess} to its return, when the worker's
 * process runs) against the same launch in library mode ({@code ContainerManager.run} in this JVM, with the same
 * user, working directory, cgroup parent, CPU limit and Storm's mounts), runs interleaved. The adapter's path adds the
 * agent's socket and its command line. Goal: at most 1.2 times, and at most 20 ms added. Needs root.
 * Usage: {@code sudo bin/benchmark storm [--runs 30]}
 */
public final class StormLaunchBenchmark {
    private static final int WARMUP = 30;
    private static final String IMAGE = "bench/sleep:1";
    private static final String PARENT = "runcible-bench-storm";

    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        int runs = args.length == 2 && args[0].equals("--runs") ? Integer.parseInt(args[1]) : 30;
        Path home = Path.of(System.getProperty("runcible.home", ".")).toAbsolutePath().normalize();
        // Not under /tmp: a worker gets its own /tmp, and the adapter refuses a Storm directory beneath it.
        Path work = Files.createTempDirectory(Files.createDirectories(Path.of("/var/tmp")), "runcible-bench-storm-");
        Path log = work.resolve("bench.log");
        Path rootfs = Files.createDirectories(work.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
        Files.createSymbolicLink(rootfs.resolve("sleep"), Path.of("busybox"));
        Path storm = Files.createDirectories(work.resolve("storm"));
        Map<String, String> settings = Map.of("local.root", work.resolve("store").toString(), "squashfs.cache.dir",
                work.resolve("cache").toString(), "runcible.run.dir", work.resolve("run").toString(),
                "runcible.layer-mounts.keep", "4", "runcible.mounts.allowed-rw", storm.toString(),
                "runcible.cgroup.parent", PARENT);
        Path config = JvmImageBenchmark.properties(Files.createDirectories(work.resolve("config"))
                .resolve("runcible.properties"), settings);
        Path stormHome = Files.createDirectories(storm.resolve("home"));
        System.setProperty(ConfigUtils.STORM_HOME, stormHome.toString());
        System.setProperty("storm.log.dir", storm.resolve("logs").toString());
        Map<String, Object> conf = new HashMap<>(Utils.readDefaultConfig());
        conf.put("storm.local.dir", storm.resolve("data").toString());
        conf.put("runcible.agent.socket", work.resolve("agent/agent.sock").toString());
        conf.put("storm.oci.image", IMAGE);
        conf.put("storm.oci.cgroup.parent", "/" + PARENT);
        conf.put("storm.worker.cgroup.cpu.limit", 100);
        Files.createDirectories(Path.of(ConfigUtils.supervisorLocalDir(conf)));
        List<Double> adapter = new ArrayList<>();
        List<Double> library = new ArrayList<>();
        try (Runcible runcible = Runcible.open(Settings.of(settings, Map.of()),
                StormLaunchBenchmark.class.getClassLoader());
                NodeAgent agent = NodeAgent.start(home, config, work.resolve("agent/agent.sock"), log)) {
            try (ImageStore store = runcible.openStore(work.resolve("store").toUri())) {
                new RootfsImporter(runcible.localizer()).importDirectory(work.resolve("rootfs"), List.of(IMAGE),
                        ImageChanges.parse(List.of()), store);
            }
            RuncibleContainerManager manager = new RuncibleContainerManager();
            manager.prepare(conf);
            ContainerManager containers = runcible.containers();
            for (int run = -WARMUP; run < runs; run++) {
                double viaAdapter = viaAdapter(manager, conf, 7000 + Math.floorMod(run, 1000));
                double inProcess = inLibrary(containers, conf, 8000 + Math.floorMod(run, 1000));
                if (run >= 0) {
                    adapter.add(viaAdapter);
                    library.add(inProcess);
                }
            }
            containers.collect(0);
        } finally {
            System.clearProperty(ConfigUtils.STORM_HOME);
        }
        Measure.Summary viaAdapter = Measure.summarize(adapter);
        Measure.Summary inProcess = Measure.summarize(library);
        double ratio = viaAdapter.median() / inProcess.median();
        double addedMs = (viaAdapter.median() - inProcess.median()) * 1000;
        String report = """
                # A Storm worker's launch through the adapter

                %s, %d cores, %d interleaved runs each after %d warm-up runs. A worker of user nobody with Storm's
                mounts (Storm's home and the supervisor's directory read-only; the worker's directory, artifacts and
                user file read-write; its tmp directory at /tmp), a CPU limit and a cgroup parent, until its process
                runs.

                | | median (min–max) |
                |---|---|
                | library mode: `ContainerManager.run` in this JVM | %s |
                | the adapter: `launchWorkerProcess`, through the agent's socket | %s |
                | **ratio, adapter / library** (goal ≤ 1.2) | **%.2f** |
                | **added by the adapter** (goal ≤ 20 ms) | **%.1f ms** |
                """.formatted(LocalDate.now(), Runtime.getRuntime().availableProcessors(), runs, WARMUP,
                inProcess.format(), viaAdapter.format(), ratio, addedMs);
        System.out.println(report);
        Files.createDirectories(home.resolve("benchmarks/results"));
        Files.writeString(home.resolve("benchmarks/results/storm.md"), report);
        Results.write(home, "storm", List.of(
                new Results.Figure("Storm worker launch, adapter / library", ratio, 1.2, true, "x"),
                new Results.Figure("Storm worker launch, added by the adapter", addedMs, 20, true, "ms")));
        RegistryPullBenchmark.delete(work);
    }

    /** The directories Storm's supervisor makes before a launch; returns the worker's own. */
    private static Path workerDirs(Map<String, Object> conf, String workerId, int port) throws Exception {
        for (String dir : List.of(ConfigUtils.workerPidsRoot(conf, workerId), ConfigUtils.workerTmpRoot(conf, workerId),
                ConfigUtils.workerHeartbeatsRoot(conf, workerId),
                ConfigUtils.workerArtifactsRoot(conf, "topo", port))) {
            Files.createDirectories(Path.of(dir));
        }
        Path userFile = Path.of(ConfigUtils.workerUserFile(conf, workerId));
        Files.createDirectories(userFile.getParent());
        Files.writeString(userFile, "nobody");
        return Path.of(ConfigUtils.workerRoot(conf, workerId));
    }

    private static double viaAdapter(RuncibleContainerManager manager, Map<String, Object> conf, int port)
            throws Exception {
        String workerId = UUID.randomUUID().toString();
        File dir = workerDirs(conf, workerId, port).toFile();
        manager.reserveResourcesForWorker(workerId, 256, 100, null);
        long start = System.nanoTime();
        manager.launchWorkerProcess("nobody", "topo", Map.of(), port, workerId, List.of("/bin/sleep", "600"),
                Map.of("LD_LIBRARY_PATH", "/usr/lib"), "bench ", code -> { }, dir);
        double seconds = (System.nanoTime() - start) / 1e9;
        manager.forceKill("nobody", workerId);
        while (!manager.areAllProcessesDead("nobody", workerId)) {
            Thread.sleep(5);
        }
        manager.cleanup("nobody", workerId, port);
        return seconds;
    }

    private static double inLibrary(ContainerManager containers, Map<String, Object> conf, int port)
            throws Exception {
        String workerId = UUID.randomUUID().toString();
        Path dir = workerDirs(conf, workerId, port);
        String supervisor = ConfigUtils.supervisorLocalDir(conf);
        String home = System.getProperty(ConfigUtils.STORM_HOME);
        List<BindMount> mounts = new ArrayList<>(List.of(new BindMount(Path.of(home), home, true),
                new BindMount(Path.of(supervisor), supervisor, true), new BindMount(dir, dir.toString(), false)));
        for (String path : List.of(ConfigUtils.workerArtifactsRoot(conf, "topo", port),
                ConfigUtils.workerUserFile(conf, workerId))) {
            mounts.add(new BindMount(Path.of(path), path, false));
        }
        mounts.add(new BindMount(Path.of(ConfigUtils.workerTmpRoot(conf, workerId)), "/tmp", false));
        RunRequest request = new RunRequest(ImageReference.parse(IMAGE), Optional.of(port + "-" + workerId),
                List.of("/bin/sleep", "600"), List.of("LD_LIBRARY_PATH=/usr/lib"),
                new Limits(OptionalLong.empty(), OptionalInt.of(100), OptionalLong.empty()), mounts,
                Optional.of("65534:65534"), Network.HOST, false, false,
                new RunOptions(Optional.of(dir.toString()), List.of(), Optional.of(PARENT), CpuSet.NONE));
        long start = System.nanoTime();
        ContainerManager.Started started = containers.run(request);
        double seconds = (System.nanoTime() - start) / 1e9;
        containers.kill(started.record().id(), "KILL");
        started.shim().waitFor();
        containers.remove(started.record().id(), true);
        return seconds;
    }
}
