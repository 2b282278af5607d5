package dev.runcible.storm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Runcible node driven as an operator drives it: the built distribution's CLI, a configuration file, a
 * worker image with a JRE imported from a root filesystem, and the node agent as root in a JVM of its own. Needs
 * root, runc, loop devices, squashfs and overlay; skipped without them unless RUNCIBLE_REQUIRE_ROOT_TESTS=1.
 */
final class AgentNode implements AutoCloseable {
    static final String WORKER_IMAGE = "storm/worker:1";

    final Path base;
    final Path config;
    final Path socket;
    final String cgroupParent;
    private final Path lib;
    private Process agent;

    private AgentNode(Path base, Path config, String cgroupParent, Path lib) {
        this.base = base;
        this.config = config;
        this.socket = base.resolve("agent").resolve("agent.sock");
        this.cgroupParent = cgroupParent;
        this.lib = lib;
    }

    static void requirePrerequisites() {
        List<String> missing = new ArrayList<>();
        if (!"root".equals(System.getProperty("user.name"))) {
            missing.add("root");
        }
        for (String tool : List.of("/usr/sbin/runc", "/usr/bin/tar2sqfs", "/bin/busybox", "/dev/loop-control")) {
            if (!Files.exists(Path.of(tool))) {
                missing.add(tool);
            }
        }
        if (!Files.isDirectory(distributionLib())) {
            missing.add("the built distribution (" + distributionLib() + ")");
        }
        if (missing.isEmpty()) {
            return;
        }
        String message = "Storm adapter tests need " + missing + " (see .ci/run)";
        if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    static Path distributionLib() {
        return Path.of(System.getProperty("runcible.repository.root", "..")).toAbsolutePath()
                .resolve("distribution/target/runcible/lib").normalize();
    }

    /** A node whose agent has {@code settings} (given the node's directory) besides its store, cache and run dir. */
    static AgentNode create(String cgroupParent, Function<Path, Map<String, String>> settings) throws Exception {
        requirePrerequisites();
        // Not under /tmp: a worker gets its own tmp directory there, which would hide Storm's directories.
        Path base = Files.createTempDirectory(Files.createDirectories(Path.of("/var/tmp")), "runcible-storm-");
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> all = new LinkedHashMap<>();
        all.put("local.root", base.resolve("store").toString());
        all.put("squashfs.cache.dir", base.resolve("cache").toString());
        all.put("runcible.run.dir", base.resolve("run").toString());
        all.put("runcible.cgroup.parent", cgroupParent);
        all.put("runcible.layer-mounts.keep", "0"); // the tests check that a removal leaves no mount behind
        all.putAll(settings.apply(base));
        StringBuilder text = new StringBuilder();
        all.forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        Path config = Files.writeString(Files.createDirectories(base.resolve("config")).resolve("agent.properties"),
                text.toString());
        return new AgentNode(base, config, cgroupParent, distributionLib());
    }

    /** Runs the CLI as root with this node's configuration; returns its output, failing on a non-zero exit. */
    String cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-cp", lib + "/*", "dev.runcible.core.cli.Main",
                "--config", config.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(600, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
        return out;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Imports {@code tag}: busybox and, with {@code jdk}, this machine's JDK (without its sources and jmods) with the
     * libraries its programs load, at the paths the host has them, so a worker finds {@code $JAVA_HOME/bin/java}
     * where the supervisor's JAVA_HOME says. {@code users} (name to uid:gid) go into its passwd and group files.
     */
    void importImage(String tag, boolean jdk, Map<String, String> users) throws Exception {
        Path rootfs = Files.createDirectories(base.resolve("rootfs-" + tag.replaceAll("[^a-z0-9]", "-")));
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        List<String> script = new ArrayList<>(List.of(
                "set -e",
                "cd " + rootfs,
                "mkdir -p bin etc tmp proc sys dev",
                "cp /bin/busybox bin/busybox",
                "for applet in $(bin/busybox --list); do [ -e bin/$applet ] || ln -s busybox bin/$applet; done"));
        if (jdk) {
            script.addAll(List.of(
                    "mkdir -p ." + javaHome,
                    "cd " + javaHome + " && tar -c --exclude=jmods --exclude=src.zip --exclude=include --exclude=man "
                            + "--exclude=demo -h . | tar -x -C " + rootfs + javaHome,
                    "cd " + rootfs,
                    "for f in $(find " + javaHome + " -name '*.so' -o -path '*/bin/*' -type f); do ldd $f 2>/dev/null "
                            + "| grep -o '/[^ ]*'; done | sort -u | while read lib; do cp --parents -L $lib . ; done"));
        }
        run("sh", "-c", String.join("\n", script));
        StringBuilder passwd = new StringBuilder("root:x:0:0:root:/root:/bin/sh\n");
        StringBuilder group = new StringBuilder("root:x:0:\n");
        users.forEach((name, ids) -> {
            String[] uidGid = ids.split(":");
            passwd.append(name).append(":x:").append(uidGid[0]).append(':').append(uidGid[1])
                    .append("::/tmp:/bin/sh\n");
            group.append(name).append(":x:").append(uidGid[1]).append(":\n");
        });
        Files.writeString(rootfs.resolve("etc/passwd"), passwd);
        Files.writeString(rootfs.resolve("etc/group"), group);
        List<String> args = new ArrayList<>(List.of("import", "dir:" + rootfs, "--tag", tag));
        if (jdk) {
            args.addAll(List.of("--change", "ENV JAVA_HOME=" + javaHome, "--change",
                    "ENV PATH=" + javaHome + "/bin:/bin"));
        }
        cli(args.toArray(String[]::new));
    }

    /** Starts the agent as root; returns once its socket answers. */
    void startAgent() throws Exception {
        Path log = base.resolve("agent.log");
        agent = new ProcessBuilder(java(), "-cp", lib + "/*", "dev.runcible.core.cli.Main", "--config",
                config.toString(), "agent", "--socket", socket.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                probe.connect(UnixDomainSocketAddress.of(socket));
                return;
            } catch (IOException notYet) {
                assertThat(agent.isAlive()).as(Files.exists(log) ? Files.readString(log) : "agent died").isTrue();
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the agent did not answer within 60 s: " + Files.readString(log));
    }

    void stopAgent() throws InterruptedException {
        if (agent != null) {
            agent.destroy();
            agent.waitFor(30, TimeUnit.SECONDS);
            agent = null;
        }
    }

    /** Container cgroups left under the parent in any hierarchy. */
    List<Path> cgroupsLeft() throws IOException {
        List<Path> left = new ArrayList<>();
        for (Path parent : cgroupParents()) {
            if (Files.isDirectory(parent)) {
                try (Stream<Path> children = Files.list(parent)) {
                    children.filter(Files::isDirectory).forEach(left::add);
                }
            }
        }
        return left;
    }

    /** The test's own cgroup parent, once no container cgroup is under it (runc leaves parents it made). */
    private void removeEmptyCgroupParent() throws IOException {
        for (Path parent : cgroupParents()) {
            try {
                Files.deleteIfExists(parent); // rmdir: the kernel refuses a cgroup that holds children or tasks
            } catch (IOException e) {
                // left in place: still in use, or not ours to remove
            }
        }
    }

    /** The cgroup parent's directory in the v2 tree and in each v1 hierarchy (not all of them exist). */
    private List<Path> cgroupParents() throws IOException {
        List<Path> parents = new ArrayList<>(List.of(Path.of("/sys/fs/cgroup", cgroupParent)));
        try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
            controllers.filter(Files::isDirectory).forEach(c -> parents.add(c.resolve(cgroupParent)));
        }
        return parents;
    }

    /** Mounts whose target lies under this node's directory. */
    List<String> mountsLeft() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .map(line -> line.split(" ")[4]).filter(target -> target.startsWith(base.toString())).toList();
    }

    /** Loop devices backed by a file of this node. */
    List<String> loopDevicesLeft() throws Exception {
        return run("losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE").lines()
                .filter(line -> line.contains(base.toString())).toList();
    }

    static String run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(600, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(String.join(" ", command) + ": " + out).isZero();
        return out;
    }

    @Override
    public void close() throws Exception {
        try {
            java.util.regex.Matcher ids = java.util.regex.Pattern.compile("\"id\"\\s*:\\s*\"([0-9a-f]+)\"")
                    .matcher(cli("ps", "--all", "--json"));
            while (ids.find()) {
                cli("rm", "--force", ids.group(1));
            }
        } catch (AssertionError | Exception e) {
            // best effort: the mount check below protects the files
        }
        stopAgent();
        removeEmptyCgroupParent();
        if (!mountsLeft().isEmpty()) {
            return;
        }
        try (Stream<Path> files = Files.walk(base)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }
}
