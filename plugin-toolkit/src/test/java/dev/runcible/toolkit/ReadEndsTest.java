package dev.runcible.toolkit;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReadEndsTest {
    @Test
    void aReadContinuesAnEndOnceAndTheOldestEndsAreForgotten() {
        ReadEnds ends = new ReadEnds(2);
        assertThat(ends.continued(0)).as("nothing has ended anywhere yet").isFalse();
        ends.ended(100);
        ends.ended(200);
        assertThat(ends.continued(100)).isTrue();
        assertThat(ends.continued(100)).as("used up").isFalse();
        ends.ended(300);
        ends.ended(400); // the ring holds two: 200 is forgotten
        assertThat(ends.continued(200)).isFalse();
        assertThat(ends.continued(300)).isTrue();
        assertThat(ends.continued(400)).isTrue();
    }
}
