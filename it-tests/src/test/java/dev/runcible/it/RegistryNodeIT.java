package dev.runcible.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.BindMode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;

/**
 * A node pulling from a registry container: Debian's docker-registry (the host's binary, in a container of the
 * node image) on a network of the test's own, not published on any host port. The image it serves is the node
 * image itself, copied from the Docker engine with skopeo.
 */
class RegistryNodeIT extends NodeTests {
    private static final String REGISTRY_BINARY = "/usr/bin/docker-registry";
    private static Network network;
    private static GenericContainer<?> registry;
    private static Node node;

    @BeforeAll
    static void start() throws Exception {
        requireDocker();
        for (String tool : List.of(REGISTRY_BINARY, "/usr/bin/skopeo")) {
            if (!Files.isExecutable(Path.of(tool))) {
                requireOrSkip(tool + " is not installed (apt-get install docker-registry skopeo)");
            }
        }
        network = Network.newNetwork();
        registry = new GenericContainer<>(DockerImageName.parse(NodeImage.NAME))
                .withNetwork(network).withNetworkAliases("registry")
                .withFileSystemBind(REGISTRY_BINARY, REGISTRY_BINARY, BindMode.READ_ONLY)
                .withCopyToContainer(Transferable.of("""
                        version: 0.1
                        log:
                          level: warn
                        storage:
                          filesystem:
                            rootdirectory: /var/lib/registry
                        http:
                          addr: :5000
                        """), "/etc/registry.yml")
                .withCommand(REGISTRY_BINARY, "serve", "/etc/registry.yml");
        registry.start();
        String address = registry.getContainerInfo().getNetworkSettings().getNetworks().values().iterator().next()
                .getIpAddress();
        Process copy = new ProcessBuilder("skopeo", "copy", "-q", "--dest-tls-verify=false",
                "docker-daemon:" + NodeImage.NAME, "docker://" + address + ":5000/node/base:1")
                .redirectErrorStream(true).start();
        String output = new String(copy.getInputStream().readAllBytes());
        assertThat(copy.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(copy.exitValue()).as(output).isZero();
        node = Node.withLoopDevices().withNetwork(network);
        node.start();
    }

    private static void requireOrSkip(String message) {
        if ("1".equals(System.getenv("RUNCIBLE_REQUIRE_ROOT_TESTS"))) {
            org.junit.jupiter.api.Assertions.fail(message);
        }
        org.junit.jupiter.api.Assumptions.abort(message);
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.stop();
        }
        if (registry != null) {
            registry.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void pullsConvertsAndRunsFromTheRegistryContainer() {
        Node.Result config = node.sh("printf 'runcible.image.tag-to-manifest=registry\\nruncible.image.manifest-to-"
                + "resources=registry\\nregistry.insecure-registries=registry:5000\\n' > /tmp/registry.properties");
        assertThat(config.exitCode()).isZero();
        Node.Result pull = node.runcible("--config /tmp/registry.properties pull registry:5000/node/base:1");
        assertThat(pull.exitCode()).as(pull.toString()).isZero();
        assertThat(pull.out()).contains("Pulled registry:5000/node/base:1");
        assertThat(pull.err()).contains("Fetched sha256:"); // plain progress lines, no terminal here
        // The node image has no User, so it would run as root, which nodes forbid by default.
        Node.Result refused = node.runcible("--config /tmp/registry.properties run --rm registry:5000/node/base:1 -- "
                + "true");
        assertThat(refused.err()).contains("would run as root");
        Node.Result run = node.runcible("--config /tmp/registry.properties run --rm --user 65534 "
                + "registry:5000/node/base:1 -- cat /etc/debian_version");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("12.");
    }
}
