package dev.runcible.core.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event log on a real file, followed through inotify by a real watch service. */
class EventLogTest {
    @TempDir
    Path dir;

    private static ContainerRecord record(String idChar, String name, int owner) {
        return new ContainerRecord(idChar.repeat(64), name, "app:1", "sha256:" + "0".repeat(64), List.of(),
                Instant.now().toString(), List.of(), "/runcible/x", "", false, owner);
    }

    @Test
    void aFollowerSeesAppendsAsTheyHappenAndSkipsTornOrForeignLines() throws Exception {
        EventLog log = new EventLog(dir.resolve("events"));
        log.append("created", record("a", "first", 0), OptionalInt.empty());
        List<EventLog.Event> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread follower = new Thread(() -> {
            try {
                log.follow(0, Optional.empty(), event -> event.owner() == 1000, seen::add, stop::get);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        follower.start();
        Files.writeString(log.file(), "not json\n{\"type\":\"exited\"}\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.APPEND);
        log.append("exited", record("b", "second", 1000), OptionalInt.of(3));
        long deadline = System.currentTimeMillis() + 5000;
        while (seen.isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        stop.set(true);
        follower.join(5000);
        assertThat(seen).hasSize(1);
        assertThat(seen.get(0).type()).isEqualTo("exited");
        assertThat(seen.get(0).name()).isEqualTo("second");
        assertThat(seen.get(0).exitCode()).hasValue(3);
    }

    @Test
    void sinceKeepsOnlyLaterEventsAndEventsRoundTrip() throws Exception {
        EventLog log = new EventLog(dir.resolve("events"));
        log.append("started", record("a", "early", 0), OptionalInt.empty());
        Instant between = Instant.now();
        Thread.sleep(2);
        log.append("exited", record("a", "early", 0), OptionalInt.of(0));
        List<EventLog.Event> seen = new CopyOnWriteArrayList<>();
        log.follow(0, Optional.of(between), event -> true, seen::add, () -> !seen.isEmpty());
        assertThat(seen).extracting(EventLog.Event::type).containsExactly("exited");
        EventLog.Event event = seen.get(0);
        assertThat(EventLog.Event.parse(event.json())).isEqualTo(event);
        assertThat(event.text()).contains("exited " + "a".repeat(64) + " (name=early, exitCode=0)");
    }

    @Test
    void aRotatedLogIsFinishedByItsFollowersAndReadAgainWithSince() throws Exception {
        EventLog log = new EventLog(dir.resolve("events"));
        Instant start = Instant.now().minusSeconds(1);
        log.append("created", record("a", "one", 0), OptionalInt.empty());
        assertThat(log.rotate(1 << 20)).as("small logs stay").isFalse();
        List<EventLog.Event> seen = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread follower = new Thread(() -> {
            try {
                log.follow(log.end(), Optional.empty(), event -> true, seen::add, stop::get);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        follower.start();
        Thread.sleep(300);
        log.append("started", record("a", "one", 0), OptionalInt.empty());
        assertThat(log.rotate(10)).isTrue();
        log.append("exited", record("a", "one", 0), OptionalInt.of(5));
        long deadline = System.currentTimeMillis() + 5000;
        while (seen.size() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(5);
        }
        stop.set(true);
        follower.join(5000);
        assertThat(seen).extracting(EventLog.Event::type).containsExactly("started", "exited");
        List<EventLog.Event> again = new CopyOnWriteArrayList<>();
        log.follow(0, Optional.of(start), event -> true, again::add, () -> again.size() >= 3);
        assertThat(again).extracting(EventLog.Event::type).containsExactly("created", "started", "exited");
    }
}
