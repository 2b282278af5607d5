package dev.runcible.core.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.runcible.api.ImageConfig;
import dev.runcible.api.ImageReference;
import dev.runcible.api.PolicyViolationException;
import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.runtime.BindMount;
import dev.runcible.core.runtime.Limits;
import dev.runcible.core.runtime.Network;
import dev.runcible.core.runtime.UserIds;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a container runs, decided without root, runc or a file: the specs are a pure function of their inputs. */
class ContainerSpecsTest {
    private static final ContainerRecord RECORD = new ContainerRecord("a".repeat(64), "web", "demo/app:1",
            "sha256:" + "b".repeat(64), List.of(), "2026-12-01T00:00:00Z", List.of(), "/runcible/" + "a".repeat(64),
            "1 2");
    private static final ImageConfig IMAGE = new ImageConfig(List.of("PATH=/bin", "MODE=image"), List.of(),
            List.of("serve"), Optional.of("/srv"), Optional.empty(), Optional.empty());
    private static final List<BindMount> HOST_FILES = List.of(new BindMount(Path.of("/etc/hosts"), "/etc/hosts", true));
    private static final UserIds WORKER = new UserIds(1000, 1000, List.of(), "/home/worker");

    private static RunRequest request(List<String> env, Limits limits, Optional<String> user, Network network)
            throws Exception {
        return new RunRequest(ImageReference.parse("demo/app:1"), Optional.of("web"), List.of(), env, limits,
                List.of(), user, network);
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(node -> out.add(node.isTextual() ? node.asText() : node.get("destination").asText()));
        return out;
    }

    @Test
    void rootNeedsTheNodesPermissionAndSaysWhoAskedForIt() throws Exception {
        ContainerSpecs strict = new ContainerSpecs(false, 0, Optional.empty(), HOST_FILES, 1024);
        assertThatThrownBy(() -> strict.runtimeConfig(RECORD, IMAGE, request(List.of(), Limits.NONE,
                Optional.of("0"), Network.HOST), UserIds.ROOT, List.of()))
                .isInstanceOf(PolicyViolationException.class).hasMessageContaining("as --user asks");
        assertThatThrownBy(() -> strict.runtimeConfig(RECORD, IMAGE, request(List.of(), Limits.NONE,
                Optional.empty(), Network.HOST), UserIds.ROOT, List.of()))
                .hasMessageContaining("its default user");
        ContainerSpecs lenient = new ContainerSpecs(true, 0, Optional.empty(), HOST_FILES, 1024);
        JsonNode config = lenient.runtimeConfig(RECORD, IMAGE, request(List.of(), Limits.NONE, Optional.empty(),
                Network.HOST), UserIds.ROOT, List.of());
        assertThat(config.get("process").get("user").get("uid").asInt()).isZero();
    }

    @Test
    void hostFilesComeFirstThenTheRequestsBindsAndTheDefaultPidsLimitFillsAGap() throws Exception {
        ContainerSpecs specs = new ContainerSpecs(false, 4096, Optional.empty(), HOST_FILES, 1024);
        JsonNode config = specs.runtimeConfig(RECORD, IMAGE, request(List.of("MODE=cli"), Limits.NONE,
                Optional.empty(), Network.NONE), WORKER, List.of(new BindMount(Path.of("/data"), "/data", false)));
        List<String> destinations = texts(config.get("mounts"));
        assertThat(destinations.indexOf("/etc/hosts")).isLessThan(destinations.indexOf("/data"));
        assertThat(config.get("linux").get("resources").get("pids").get("limit").asLong()).isEqualTo(4096);
        assertThat(texts(config.get("process").get("env"))).containsExactly("PATH=/bin", "MODE=cli",
                "HOME=/home/worker");
        assertThat(config.get("process").get("cwd").asText()).isEqualTo("/srv");
        assertThat(config.get("linux").get("namespaces").toString()).contains("network");
        JsonNode asked = specs.runtimeConfig(RECORD, IMAGE, request(List.of(), Limits.parse(null, null, 64L),
                Optional.empty(), Network.HOST), WORKER, List.of());
        assertThat(asked.get("linux").get("resources").get("pids").get("limit").asLong()).isEqualTo(64);
        assertThat(asked.get("linux").get("namespaces").toString()).doesNotContain("network");
    }

    @Test
    void aBareEnvironmentNameIsRefusedRatherThanTakenFromTheLauncher() {
        ContainerSpecs specs = new ContainerSpecs(false, 0, Optional.empty(), HOST_FILES, 1024);
        assertThatThrownBy(() -> specs.runtimeConfig(RECORD, IMAGE, request(List.of("HOME"), Limits.NONE,
                Optional.empty(), Network.HOST), WORKER, List.of()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'HOME' has no value");
    }
}
