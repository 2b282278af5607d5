package dev.runcible.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.client.AgentProtocol;
import dev.runcible.core.config.AgentPolicy;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which configuration a request runs under: a peer's always the agent's, root's its own choice, else the agent's. */
class AgentPeersTest {
    private static final Path OWN = Path.of("/etc/runcible/agent.properties");
    private final AgentPeers peers = new AgentPeers("root", AgentPolicy.ROOT_ONLY, Optional.of(OWN),
            Optional.of("/opt/plugins"));

    private static AgentProtocol.Request request(Map<String, String> environment, String... args) {
        return new AgentProtocol.Request(List.of(args), environment, false);
    }

    @Test
    void rootNamingNoConfigurationGetsTheAgentsOwn() {
        AgentProtocol.Request served = peers.withOwnConfigurationByDefault(request(Map.of(), "ps", "--json"));
        assertThat(served.args()).containsExactly("--config", OWN.toString(), "ps", "--json");
        assertThat(served.environment()).containsEntry("RUNCIBLE_PLUGIN_PATH", "/opt/plugins");
    }

    @Test
    void rootNamingAConfigurationKeepsIt() {
        AgentProtocol.Request flag = request(Map.of(), "--config", "/root/mine.properties", "ps");
        assertThat(peers.withOwnConfigurationByDefault(flag)).isEqualTo(flag);
        AgentProtocol.Request joined = request(Map.of(), "--config=/root/mine.properties", "ps");
        assertThat(peers.withOwnConfigurationByDefault(joined)).isEqualTo(joined);
        AgentProtocol.Request variable = request(Map.of("RUNCIBLE_CONFIG", "/root/mine.properties"), "ps");
        assertThat(peers.withOwnConfigurationByDefault(variable)).isEqualTo(variable);
    }

    @Test
    void aConfigurationFlagAfterTheCommandIsTheCommandsOwnArgument() {
        AgentProtocol.Request served = peers.withOwnConfigurationByDefault(
                request(Map.of(), "run", "--rm", "img", "--", "app", "--config", "x"));
        assertThat(served.args()).startsWith("--config", OWN.toString(), "run");
    }

    @Test
    void aPeersConfigurationIsAlwaysReplaced() {
        AgentProtocol.Request served = peers.underOwnConfiguration(
                request(Map.of("RUNCIBLE_CONFIG", "/home/u/wide.properties"), "--config", "/home/u/w", "ps"));
        assertThat(served.args()).containsExactly("--config", OWN.toString(), "ps");
        assertThat(served.environment()).doesNotContainKey("RUNCIBLE_CONFIG");
    }
}
