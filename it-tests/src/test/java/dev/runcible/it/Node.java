package dev.runcible.it;

import com.github.dockerjava.api.model.Capability;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A disposable cluster node: a container of {@link NodeImage} in which Runcible launches real runc containers.
 * Privileged mode is refused on this kind of machine (no CAP_SYS_RESOURCE), so the node gets every other
 * capability, no seccomp or AppArmor filter, the loop block devices (7:*) and loop-control (10:237), a tmpfs for
 * the run directory (overlay cannot stack its upper directory on the engine's overlay) and, once started,
 * writable cgroup hierarchies and loop device nodes.
 */
public final class Node extends GenericContainer<Node> {
    static final String RUNCIBLE = "/opt/runcible/bin/runcible";
    private static final String JAVA_HOME = System.getProperty("java.home");
    private final boolean loopDevices;

    private Node(boolean loopDevices) {
        super(DockerImageName.parse(NodeImage.NAME));
        this.loopDevices = loopDevices;
        withCommand("sleep", "infinity");
        withFileSystemBind(JAVA_HOME, JAVA_HOME, BindMode.READ_ONLY);
        // Debian's JDK keeps its configuration under /etc, linked from the JDK directory.
        for (String dir : List.of("/etc/java-17-openjdk", "/etc/ssl/certs/java")) {
            if (Files.isDirectory(Path.of(dir))) {
                withFileSystemBind(dir, dir, BindMode.READ_ONLY);
            }
        }
        withFileSystemBind(repositoryRoot().toString(), "/opt/runcible", BindMode.READ_ONLY);
        withTmpFs(Map.of("/var/lib/runcible", "rw,exec,dev,suid"));
        withCreateContainerCmdModifier(cmd -> {
            var host = cmd.getHostConfig();
            host.withCapAdd(Capability.ALL).withCapDrop(Capability.SYS_RESOURCE)
                    .withSecurityOpts(List.of("seccomp=unconfined", "apparmor=unconfined"));
            if (loopDevices) {
                host.withDeviceCgroupRules(List.of("b 7:* rmw", "c 10:237 rmw"));
            }
        });
    }

    static Node withLoopDevices() {
        return new Node(true);
    }

    static Node withoutLoopDevices() {
        return new Node(false);
    }

    static Path repositoryRoot() {
        return Path.of(System.getProperty("runcible.repository.root", "..")).toAbsolutePath().normalize();
    }

    @Override
    public void start() {
        super.start();
        String setup = "for d in /sys/fs/cgroup/*/; do mount -o remount,bind,rw \"$d\"; done";
        if (loopDevices) {
            setup += "; mknod /dev/loop-control c 10 237; for i in $(seq 0 15); do mknod /dev/loop$i b 7 $i; done";
        }
        Result result = sh(setup);
        if (result.exitCode() != 0) {
            throw new IllegalStateException("Node setup failed: " + result);
        }
    }

    /** What a command printed, and its exit code. */
    public record Result(int exitCode, String out, String err) {
    }

    /** Runs a shell command in the node, with the host's JRE on PATH. */
    public Result sh(String command) {
        try {
            ExecResult result = execInContainer("sh", "-c", "export PATH=" + JAVA_HOME + "/bin:$PATH; " + command);
            return new Result(result.getExitCode(), result.getStdout(), result.getStderr());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs the Runcible CLI in the node. */
    public Result runcible(String args) {
        return sh(RUNCIBLE + " " + args);
    }

    /** Builds a busybox-static root filesystem in the node and imports it as an image. */
    public Result importSample(String tag, String importOptions) {
        return importSample("", tag, importOptions);
    }

    /** The same, with global options (such as {@code --config FILE}) before the command. */
    public Result importSample(String globalOptions, String tag, String importOptions) {
        return sh("rm -rf /tmp/rootfs && mkdir -p /tmp/rootfs/bin /tmp/rootfs/etc && cp /bin/busybox /tmp/rootfs/bin/"
                + " && for a in sh echo sleep cat true; do ln -s busybox /tmp/rootfs/bin/$a; done && "
                + RUNCIBLE + " " + globalOptions + " import dir:/tmp/rootfs --tag " + tag
                + " --change 'USER 1000:1000' " + importOptions);
    }
}
