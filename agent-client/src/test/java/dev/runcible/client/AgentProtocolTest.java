package dev.runcible.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AgentProtocolTest {
    @Test
    void aRequestRoundTripsWithItsArgumentsEnvironmentAndTerminalFlag() throws IOException {
        AgentProtocol.Request sent = new AgentProtocol.Request(List.of("run", "--rm", "img:1", "--", "echo", "héllo wörld",
                ""), Map.of("PATH", "/bin", "EMPTY", "", "WITH_EQUALS", "a=b=c"), true);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AgentProtocol.writeRequest(new DataOutputStream(bytes), sent);
        AgentProtocol.Request read = AgentProtocol.readRequest(input(bytes.toByteArray()));
        assertThat(read).isEqualTo(sent);
    }

    @Test
    void aRequestFromSomethingElseIsRefusedByItsMagic() {
        assertThatThrownBy(() -> AgentProtocol.readRequest(input("GET / HTTP/1.1\r\n".getBytes())))
                .isInstanceOf(IOException.class).hasMessageContaining("not a Runcible agent request")
                .hasMessageContaining("same Runcible version");
    }

    @Test
    void countsAndLengthsOutOfBoundsAreRefusedBeforeAllocating() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(AgentProtocol.MAGIC);
        out.writeInt(1);
        out.writeInt(Integer.MAX_VALUE); // a string of 2 GiB
        assertThatThrownBy(() -> AgentProtocol.readRequest(input(bytes.toByteArray())))
                .isInstanceOf(IOException.class).hasMessageContaining("out of bounds");
        bytes.reset();
        out.writeInt(AgentProtocol.MAGIC);
        out.writeInt(-1);
        assertThatThrownBy(() -> AgentProtocol.readRequest(input(bytes.toByteArray())))
                .isInstanceOf(IOException.class).hasMessageContaining("count -1 is out of bounds");
    }

    @Test
    void aTruncatedRequestIsAnError() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AgentProtocol.writeRequest(new DataOutputStream(bytes), new AgentProtocol.Request(List.of("ps"), Map.of(),
                false));
        byte[] cut = Arrays.copyOf(bytes.toByteArray(), 10);
        assertThatThrownBy(() -> AgentProtocol.readRequest(input(cut))).isInstanceOf(IOException.class);
    }

    @Test
    void framesRoundTripAndTheStreamEndsCleanly() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        byte[] text = "out\n".getBytes();
        AgentProtocol.writeFrame(out, AgentProtocol.STDOUT, text, 0, text.length);
        byte[] exit = AgentProtocol.exitPayload(137);
        AgentProtocol.writeFrame(out, AgentProtocol.EXIT, exit, 0, exit.length);
        DataInputStream in = input(bytes.toByteArray());
        AgentProtocol.Frame first = AgentProtocol.readFrame(in);
        assertThat(first.type()).isEqualTo(AgentProtocol.STDOUT);
        assertThat(first.text()).isEqualTo("out\n");
        assertThat(AgentProtocol.readFrame(in).exitCode()).isEqualTo(137);
        assertThat(AgentProtocol.readFrame(in)).isNull();
    }

    @Test
    void aMalformedExitFrameIsAnError() {
        assertThatThrownBy(() -> new AgentProtocol.Frame(AgentProtocol.EXIT, new byte[3]).exitCode())
                .isInstanceOf(IOException.class).hasMessageContaining("3 bytes");
    }

    @ParameterizedTest(name = "[{index}] {0} -> {1}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "run --rm img|run",
            "--config /etc/r.properties ps -a|ps",
            "--config=/etc/r.properties --debug kill x|kill",
            "--debug|null",
            "--config|null",
            "--help|null",
            "--version run|null",
            "import dir:/x --tag a:1|import",
    })
    void theSubcommandFollowsTheGlobalOptions(String line, String expected) {
        assertThat(AgentProtocol.subcommand(List.of(line.split(" ")))).isEqualTo(expected);
    }

    @Test
    void theClientMakesARelativeConfigAbsoluteButLeavesTheCommandsArguments() {
        String here = Path.of("").toAbsolutePath().toString();
        assertThat(AgentClient.absoluteConfig(List.of("--config", "r.properties", "run", "--config", "x", "img")))
                .containsExactly("--config", here + "/r.properties", "run", "--config", "x", "img");
        assertThat(AgentClient.absoluteConfig(List.of("--config=conf/r.properties", "ps")))
                .containsExactly("--config=" + here + "/conf/r.properties", "ps");
        assertThat(AgentClient.absoluteConfig(List.of("--config", "/etc/r.properties", "ps")))
                .containsExactly("--config", "/etc/r.properties", "ps");
    }

    private static DataInputStream input(byte[] bytes) {
        return new DataInputStream(new ByteArrayInputStream(bytes));
    }
}
