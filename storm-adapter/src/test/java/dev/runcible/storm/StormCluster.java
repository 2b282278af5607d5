package dev.runcible.storm;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * A real Storm 2.8.3 cluster on this machine, as separate processes built from the Maven artifacts (no Storm
 * distribution is downloaded): ZooKeeper, Nimbus and a Supervisor, the last two as an unprivileged user, with the
 * adapter's jar in the Supervisor's extlib-daemon/. Its Storm home is a directory of its own that user can read.
 */
final class StormCluster implements AutoCloseable {
    final Path home;
    final Path localDir;
    final Path logDir;
    final int zookeeperPort = freePort();
    final int nimbusPort = freePort();
    final int supervisorPort = freePort();
    final List<Integer> slots = List.of(freePort(), freePort());
    private final List<Process> daemons = new ArrayList<>();

    private StormCluster(Path home) {
        this.home = home;
        this.localDir = home.resolve("data");
        this.logDir = home.resolve("logs");
    }

    /**
     * Lays out a Storm home under {@code base}: lib/ and lib-worker/ from the module's Storm dependencies, the
     * adapter jar in extlib-daemon/, log4j2 files, a profiler script in bin/, and storm.yaml with {@code yaml}.
     */
    static StormCluster create(Path base, String user, String yaml) throws Exception {
        Path built = Path.of(System.getProperty("runcible.storm.home"));
        Path jar = Path.of(System.getProperty("runcible.storm.jar"));
        StormCluster cluster = new StormCluster(base.resolve("storm"));
        Path home = cluster.home;
        copy(built.resolve("lib"), home.resolve("lib"), name -> true);
        // As in Storm's distribution, workers get the client side only: not storm-server (DaemonConfig and the
        // supervisor's plugins).
        copy(built.resolve("lib"), home.resolve("lib-worker"), name -> !name.startsWith("storm-server-"));
        Files.createDirectories(home.resolve("extlib"));
        Files.createDirectories(home.resolve("extlib-daemon"));
        Files.copy(jar, home.resolve("extlib-daemon/runcible-storm.jar"));
        Files.createDirectories(home.resolve("log4j2"));
        Files.copy(resource("cluster.xml"), home.resolve("log4j2/cluster.xml"));
        Files.copy(resource("worker.xml"), home.resolve("log4j2/worker.xml"));
        Files.createDirectories(home.resolve("bin"));
        Files.copy(resource("flight.bash"), home.resolve("bin/flight.bash"));
        Files.setPosixFilePermissions(home.resolve("bin/flight.bash"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(home.resolve("conf"));
        Files.writeString(home.resolve("conf/storm.yaml"), String.join("\n",
                "storm.zookeeper.servers: [\"127.0.0.1\"]",
                "storm.zookeeper.port: " + cluster.zookeeperPort,
                "nimbus.seeds: [\"127.0.0.1\"]",
                "nimbus.thrift.port: " + cluster.nimbusPort,
                "storm.local.hostname: \"127.0.0.1\"",
                "storm.local.dir: \"" + cluster.localDir + "\"",
                "supervisor.thrift.port: " + cluster.supervisorPort,
                "supervisor.slots.ports: " + cluster.slots,
                "worker.childopts: \"-Xmx%HEAP-MEM%m -XX:+UseSerialGC -Xshare:auto\"",
                "supervisor.worker.start.timeout.secs: 180",
                "storm.resource.isolation.plugin.enable: true",
                "storm.resource.isolation.plugin: \"dev.runcible.storm.RuncibleContainerManager\"",
                yaml, ""));
        AgentNode.run("chmod", "-R", "a+rX", home.toString());
        Files.createDirectories(cluster.localDir);
        Files.createDirectories(cluster.logDir);
        Files.createDirectories(home.resolve("zookeeper"));
        AgentNode.run("chown", user + ":", cluster.localDir.toString(), cluster.logDir.toString());
        return cluster;
    }

    /** Starts ZooKeeper (as root), then Nimbus and the Supervisor as {@code uid}, each logging to its .out file. */
    void start(String uid, String gid) throws Exception {
        daemons.add(daemon(List.of(), "zookeeper", List.of("-Dzookeeper.admin.enableServer=false"),
                "org.apache.storm.shade.org.apache.zookeeper.server.ZooKeeperServerMain",
                Integer.toString(zookeeperPort), home.resolve("zookeeper").toString()));
        awaitPort(zookeeperPort);
        List<String> asUser = List.of("setpriv", "--reuid=" + uid, "--regid=" + gid, "--init-groups");
        daemons.add(daemon(asUser, "nimbus", List.of(), "org.apache.storm.daemon.nimbus.Nimbus"));
        awaitPort(nimbusPort);
        daemons.add(daemon(asUser, "supervisor", List.of(), "org.apache.storm.daemon.supervisor.Supervisor"));
        awaitPort(supervisorPort);
    }

    private Process daemon(List<String> prefix, String name, List<String> options, String main, String... args)
            throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(AgentNode.java(), "-Xmx256m", "-XX:+UseSerialGC", "-Dstorm.home=" + home,
                "-Dstorm.log.dir=" + logDir, "-Dlogfile.name=" + name + ".log",
                "-Dlog4j.configurationFile=" + home.resolve("log4j2/cluster.xml")));
        command.addAll(options);
        command.addAll(List.of("-cp", home + "/lib/*:" + home + "/extlib-daemon/*:" + home + "/conf", main));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(home.resolve(name + ".out").toFile()).directory(home.toFile());
        builder.environment().put("JAVA_HOME", Path.of(System.getProperty("java.home")).toRealPath().toString());
        return builder.start();
    }

    String daemonLog(String name) throws IOException {
        Path out = home.resolve(name + ".out");
        return Files.exists(out) ? Files.readString(out) : "";
    }

    /** The client side of a submission: where Nimbus is, with the topology's own settings. */
    Map<String, Object> clientConf() {
        Map<String, Object> conf = new HashMap<>();
        conf.put("nimbus.seeds", List.of("127.0.0.1"));
        conf.put("nimbus.thrift.port", nimbusPort);
        conf.put("storm.zookeeper.servers", List.of("127.0.0.1"));
        conf.put("storm.zookeeper.port", zookeeperPort);
        return conf;
    }

    /** A jar of the test topology's classes, as {@code storm jar} would upload. */
    Path topologyJar() throws Exception {
        Path jar = home.resolve("word-count.jar");
        Path classes = Path.of(WordCount.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
                Stream<Path> files = Files.walk(classes.resolve("dev/runcible/storm"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().startsWith("WordCount")).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString()));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    private static void copy(Path from, Path to, java.util.function.Predicate<String> take) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.filter(f -> take.test(f.getFileName().toString())).toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    private static Path resource(String name) throws Exception {
        return Path.of(StormCluster.class.getResource("/storm-home/" + name).toURI());
    }

    private void awaitPort(int port) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try (Socket socket = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                for (Process daemon : daemons) {
                    if (!daemon.isAlive()) {
                        throw new AssertionError("a Storm daemon died (exit " + daemon.exitValue() + "):\n"
                                + daemonLog("zookeeper") + daemonLog("nimbus") + daemonLog("supervisor"));
                    }
                }
                Thread.sleep(200);
            }
        }
        throw new AssertionError("nothing listens on port " + port + " after 120 s");
    }

    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws Exception {
        for (int i = daemons.size() - 1; i >= 0; i--) {
            Process daemon = daemons.get(i);
            daemon.destroy();
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) {
                daemon.destroyForcibly();
            }
        }
        daemons.clear();
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
