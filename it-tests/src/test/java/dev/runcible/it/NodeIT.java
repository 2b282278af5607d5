package dev.runcible.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.BindMode;

/**
 * Runcible on clean, disposable nodes: containers started with Testcontainers on the local Docker engine, each
 * running the CLI from this checkout and real runc inside. The nodes start once for the whole class.
 */
class NodeIT extends NodeTests {
    private static Node first;
    private static Node second;
    private static Node noLoop;
    private static Path store;

    @BeforeAll
    static void startNodes() throws Exception {
        requireDocker();
        store = Files.createTempDirectory(Path.of(System.getProperty("runcible.node.build.dir", "target"))
                .getParent(), "shared-store-");
        first = Node.withLoopDevices().withFileSystemBind(store.toString(), "/shared", BindMode.READ_WRITE);
        second = Node.withLoopDevices().withFileSystemBind(store.toString(), "/shared", BindMode.READ_ONLY);
        noLoop = Node.withoutLoopDevices();
        first.start();
        second.start();
        noLoop.start();
        Node.Result imported = first.importSample("shared/busybox:1", "--to /shared --change 'CMD [\"echo\", "
                + "\"from the shared store\"]'");
        assertThat(imported.exitCode()).as(imported.toString()).isZero();
    }

    @AfterAll
    static void stopNodes() {
        for (Node node : new Node[] {first, second, noLoop}) {
            if (node != null) {
                node.stop();
            }
        }
    }

    @Test
    void aFreshNodeIsHealthyImportsAndRuns() {
        Node.Result doctor = first.runcible("doctor");
        assertThat(doctor.exitCode()).as(doctor.toString()).isZero();
        assertThat(doctor.out()).contains("All checks passed.").doesNotContain("[FAIL]");
        assertThat(first.importSample("node/busybox:1", "").exitCode()).isZero();
        Node.Result run = first.runcible("run --rm node/busybox:1 -- sh -c 'echo hello from a node; exit 7'");
        assertThat(run.out()).isEqualTo("hello from a node\n");
        assertThat(run.exitCode()).isEqualTo(7);
    }

    @Test
    void twoNodesRunTheSameImageFromOneReadOnlyStore() {
        for (Node node : new Node[] {first, second}) {
            Node.Result run = node.sh("printf 'local.root=/shared\\n' > /tmp/shared.properties && " + Node.RUNCIBLE
                    + " --config /tmp/shared.properties run --rm shared/busybox:1");
            assertThat(run.out()).as(run.toString()).isEqualTo("from the shared store\n");
            assertThat(run.exitCode()).isZero();
        }
        Node.Result write = second.sh("touch /shared/x");
        assertThat(write.exitCode()).as("the second node's store is read-only").isNotZero();
    }

    @Test
    void containersOutliveAKilledLauncherAndKeepTheirExitCodes() {
        assertThat(first.importSample("node/sleeper:1", "").exitCode()).isZero();
        // bin/runcible execs java, so $! is the launcher JVM itself.
        Node.Result started = first.sh(Node.RUNCIBLE + " run --name victim node/sleeper:1 -- sh -c 'sleep 4; exit 5'"
                + " > /tmp/victim.out 2>&1 & launcher=$!; for i in $(seq 1 100); do " + Node.RUNCIBLE
                + " ps | grep -q victim && break; sleep 0.2; done; kill -9 $launcher; sleep 0.5;"
                + " kill -0 $launcher 2>/dev/null || echo launcher-gone");
        assertThat(started.out()).contains("launcher-gone");
        Node.Result ps = first.runcible("ps");
        assertThat(ps.out()).contains("victim").contains("running");
        Node.Result waited = first.runcible("wait victim");
        assertThat(waited.out()).isEqualTo("5\n");
        assertThat(waited.exitCode()).isEqualTo(5);
        assertThat(first.runcible("ps --all").out()).contains("victim").contains("exited");
        assertThat(first.runcible("rm victim").exitCode()).isZero();
    }

    @Test
    void aNodeRunsAnImageFromHdfs() {
        // A real NameNode and DataNode (bin/hdfs-single-node) inside the node, on its own 127.0.0.1.
        Node.Result hdfs = second.sh("/opt/runcible/bin/hdfs-single-node start --dir /var/lib/runcible/hdfs --port 9000");
        assertThat(hdfs.exitCode()).as(hdfs.toString()).isZero();
        try {
            String config = "printf 'runcible.image.tag-to-manifest=hdfs\\nruncible.image.manifest-to-resources=hdfs\\n"
                    + "hdfs.root=hdfs://127.0.0.1:9000/runc-root\\nhadoop.conf.dfs.replication=1\\n' > /tmp/hdfs.properties";
            assertThat(second.sh(config).exitCode()).isZero();
            Node.Result imported = second.importSample("--config /tmp/hdfs.properties", "hdfs/busybox:1",
                    "--to hdfs://127.0.0.1:9000/runc-root");
            assertThat(imported.exitCode()).as(imported.toString()).isZero();
            Node.Result run = second.runcible("--config /tmp/hdfs.properties run --rm hdfs/busybox:1 -- echo from hdfs");
            assertThat(run.out()).as(run.toString()).isEqualTo("from hdfs\n");
            assertThat(run.exitCode()).isZero();
        } finally {
            second.sh("/opt/runcible/bin/hdfs-single-node stop --dir /var/lib/runcible/hdfs");
        }
    }

    @Test
    void aNodeWithoutLoopDevicesSaysWhatToDoAndLeavesNothingBehind() {
        Node.Result doctor = noLoop.runcible("doctor");
        assertThat(doctor.exitCode()).isEqualTo(1);
        assertThat(doctor.out()).contains("[FAIL] loop devices").contains("mknod /dev/loop-control c 10 237");
        assertThat(noLoop.importSample("node/busybox:1", "").exitCode()).isZero();
        Node.Result run = noLoop.runcible("run node/busybox:1 -- echo never");
        assertThat(run.exitCode()).isEqualTo(125);
        assertThat(run.err()).contains("loop").contains("runcible doctor").doesNotContain("never");
        assertThat(noLoop.runcible("ps --all --json").out().strip()).isEqualTo("[ ]");
        Node.Result leftovers = noLoop.sh("grep -c /var/lib/runcible/run /proc/self/mountinfo; find "
                + "/var/lib/runcible/run/containers /var/lib/runcible/run/layers -mindepth 1 2>/dev/null | wc -l");
        assertThat(leftovers.out().lines()).containsExactly("0", "0");
    }
}
