package dev.runcible.core.cli;

import dev.runcible.core.InvalidRequestException;
import dev.runcible.core.Runcible;
import dev.runcible.core.container.ContainerManager;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "events", description = "Stream container events (created, started, exited with its code, removed) "
        + "until interrupted.")
final class EventsCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--json", description = "One JSON object per line.")
    boolean json;

    @Option(names = "--since", paramLabel = "TIME", description = "First the events after TIME (RFC 3339, Unix "
            + "seconds, or a duration before now such as 10m); a client that reconnects with the time of the last "
            + "event it saw gets each event it missed once.")
    String since;

    @Override
    public Integer call() throws Exception {
        main.requireNode("events");
        Optional<Instant> after = since == null ? Optional.empty() : Optional.of(parseTime(since, Instant.now()));
        try (Runcible runcible = main.open()) {
            ContainerManager containers = main.containers(runcible);
            PrintStream out = main.out();
            long start = after.isPresent() ? 0 : containers.events().end();
            containers.events().follow(start, after, containers::sees,
                    event -> out.println(json ? event.json() : event.text()),
                    () -> main.invocation().cancelled().getAsBoolean() || out.checkError());
            return 0;
        }
    }

    /** An instant as docker's {@code --since} takes it: RFC 3339, Unix seconds (with a fraction), or 10m ago. */
    static Instant parseTime(String text, Instant now) throws InvalidRequestException {
        try {
            if (text.matches("[0-9]{1,12}(\\.[0-9]{1,9})?")) {
                BigDecimal seconds = new BigDecimal(text);
                return Instant.ofEpochSecond(seconds.longValue(),
                        seconds.remainder(BigDecimal.ONE).movePointRight(9).longValue());
            }
            if (text.matches("[0-9]{1,9}(ms|s|m|h)")) {
                long amount = Long.parseLong(text.replaceAll("[a-z]+$", ""));
                String unit = text.replaceAll("^[0-9]+", "");
                Duration ago = switch (unit) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    default -> Duration.ofHours(amount);
                };
                return now.minus(ago);
            }
            return java.time.OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new InvalidRequestException("Invalid --since '" + text + "': give an RFC 3339 time such as "
                    + "2026-12-01T18:00:00Z, Unix seconds, or a duration such as 10m");
        }
    }
}
