package dev.runcible.core.host;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MountTableTest {
    @Test
    void parsesMountinfoWithOptionalFieldsAndEscapes() {
        String text = """
                22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
                95 22 7:3 / /var/lib/runcible/run/layers/ab ro,nosuid,nodev,relatime shared:50 master:2 - squashfs /dev/loop3 ro,errors=continue
                96 22 0:61 / /mnt/with\\040space rw,relatime - overlay overlay rw,lowerdir=a:b
                """;
        List<MountTable.Mount> mounts = MountTable.parse(text);
        assertThat(mounts).hasSize(3);
        assertThat(mounts.get(1).mountPoint()).isEqualTo("/var/lib/runcible/run/layers/ab");
        assertThat(mounts.get(1).fsType()).isEqualTo("squashfs");
        assertThat(mounts.get(1).source()).isEqualTo("/dev/loop3");
        assertThat(mounts.get(1).device()).isEqualTo("7:3");
        assertThat(mounts.get(2).mountPoint()).isEqualTo("/mnt/with space");
    }

    @Test
    void readsThisProcessesMounts() throws Exception {
        assertThat(MountTable.read()).anyMatch(m -> m.mountPoint().equals("/"));
    }
}
