package dev.runcible.core.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.runcible.core.InvalidRequestException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class EventsCommandTest {
    private static final Instant NOW = Instant.parse("2026-12-01T18:00:00Z");

    @Test
    void sinceTakesDockersForms() throws Exception {
        assertThat(EventsCommand.parseTime("2026-12-01T17:00:00.123456789Z", NOW))
                .isEqualTo(Instant.parse("2026-12-01T17:00:00.123456789Z"));
        assertThat(EventsCommand.parseTime("2026-12-01T19:00:00+01:00", NOW)).isEqualTo(NOW);
        assertThat(EventsCommand.parseTime("1764612000.5", NOW))
                .isEqualTo(Instant.ofEpochSecond(1764612000L, 500_000_000));
        assertThat(EventsCommand.parseTime("10m", NOW)).isEqualTo(NOW.minusSeconds(600));
        assertThat(EventsCommand.parseTime("2h", NOW)).isEqualTo(NOW.minusSeconds(7200));
    }

    @Test
    void otherTimesAreRefusedByName() {
        assertThatThrownBy(() -> EventsCommand.parseTime("yesterday", NOW))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("'yesterday'");
    }
}
