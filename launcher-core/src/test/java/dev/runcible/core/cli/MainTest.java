package dev.runcible.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.runcible.core.container.Caller;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line builds the model of the one subcommand it names, and of all of them for help. */
class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int execute(String... args) {
        Invocation invocation = new Invocation(Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), false, (settings, plugins) -> {
                    throw new AssertionError("no launcher is opened here");
                }, (containers, id) -> { }, Map.of(), Caller.ROOT, () -> false);
        return Main.execute(invocation, args);
    }

    @Test
    void helpListsEveryCommand() {
        assertThat(execute("--help")).isZero();
        String help = out.toString(StandardCharsets.UTF_8);
        assertThat(Main.COMMANDS).hasSize(18);
        for (String command : Main.COMMANDS.keySet()) {
            assertThat(help).as(command).containsPattern("(?m)^  " + command + " ");
        }
    }

    @Test
    void aCommandIsParsedWithItsOwnOptionsAndRunStopsAtTheContainersCommand() {
        assertThat(execute("--config", "/nonexistent.properties", "run", "--frobnicate", "img")).isEqualTo(125);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unknown option: '--frobnicate'")
                .contains("See 'runcible run --help'");
    }

    @Test
    void anUnknownCommandIsNamedWithAllCommandsKnown() {
        assertThat(execute("frob")).isEqualTo(125);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("Unmatched argument at index 0: 'frob'")
                .contains("See 'runcible --help'");
    }
}
