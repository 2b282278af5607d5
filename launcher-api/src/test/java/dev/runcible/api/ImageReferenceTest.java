package dev.runcible.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ImageReferenceTest {
    private static final String HEX = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "busybox|docker.io/library/busybox:latest|busybox:latest",
            "busybox:1.36|docker.io/library/busybox:1.36|busybox:1.36",
            "library/busybox|docker.io/library/busybox:latest|busybox:latest",
            "docker.io/library/busybox|docker.io/library/busybox:latest|busybox:latest",
            "demo/app:v1|docker.io/demo/app:v1|demo/app:v1",
            "127.0.0.1:5000/app|127.0.0.1:5000/app:latest|127.0.0.1:5000/app:latest",
            "localhost/app:dev|localhost/app:dev|localhost/app:dev",
            "registry.example.com/team/app:1.0|registry.example.com/team/app:1.0|registry.example.com/team/app:1.0",
            "a-b__c/e---f.g:T_a.g-1|docker.io/a-b__c/e---f.g:T_a.g-1|a-b__c/e---f.g:T_a.g-1",
    })
    void normalizesLikeDocker(String text, String canonical, String familiar) throws Exception {
        ImageReference reference = ImageReference.parse(text);
        assertThat(reference.toString()).isEqualTo(canonical);
        assertThat(reference.familiarName()).isEqualTo(familiar);
    }

    @Test
    void keepsDigestAndHasNoDefaultTagThen() throws Exception {
        ImageReference reference = ImageReference.parse("127.0.0.1:5000/app@sha256:" + HEX);
        assertThat(reference.tag()).isEmpty();
        assertThat(reference.digest()).contains(new Digest("sha256", HEX));
        assertThat(reference.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(reference.repository()).isEqualTo("app");
    }

    @Test
    void listsStoreNamesMostSpecificFirst() throws Exception {
        assertThat(ImageReference.parse("busybox").storeNames()).containsExactly("busybox",
                "docker.io/library/busybox:latest", "library/busybox:latest", "busybox:latest");
        assertThat(ImageReference.parse("busybox")).isEqualTo(ImageReference.parse("docker.io/library/busybox"));
        assertThat(ImageReference.parse("127.0.0.1:5000/app:1").storeNames()).containsExactly("127.0.0.1:5000/app:1");
    }

    @ParameterizedTest(name = "[{index}] ''{0}'' -> {1}")
    @CsvSource(delimiter = '|', value = {
            "''|it is empty",
            "' busybox'|white space",
            "Busybox|must be lowercase",
            "busybox:|tag ''",
            "busybox:-bad|tag '-bad'",
            "busybox@sha256:abc|not a sha256 digest",
            "busybox@md5:" + "0123456789abcdef0123456789abcdef|not a sha256 digest",
            "/busybox|empty path component",
            "demo//app|empty path component",
            "demo/app/|empty path component",
            "demo/-app|path component '-app'",
            "demo/app_|path component 'app_'",
            "host..com/app|registry 'host..com'",
            "a_b.example/app|registry 'a_b.example'",
            "127.0.0.1:5000/|repository name is empty",
            ":latest|repository name is empty",
    })
    void rejectsMalformedReferences(String text, String why) {
        assertThatThrownBy(() -> ImageReference.parse(text))
                .isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("Invalid image reference '" + text + "'")
                .hasMessageContaining(why);
    }

    @Test
    void rejectsOverlongNames() {
        String name = "a".repeat(250) + "/b".repeat(5);
        assertThatThrownBy(() -> ImageReference.parse(name)).isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("longer than 255");
    }

    @Test
    void rejectsOverlongTag() {
        assertThatThrownBy(() -> ImageReference.parse("app:" + "t".repeat(129)))
                .isInstanceOf(InvalidReferenceException.class);
    }

    @Test
    void storeNamesMayBeWhateverTheTagFileAllows() throws Exception {
        ImageReference upper = ImageReference.parseStoreName("MyTeam/Hello:Prod");
        assertThat(upper.storeNames().get(0)).isEqualTo("MyTeam/Hello:Prod");
        assertThat(upper.tag()).contains("Prod");
        assertThat(upper.familiarName()).isEqualTo("MyTeam/Hello:Prod");
        assertThatThrownBy(upper::requireDockerName).isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("lowercase");
        assertThat(ImageReference.parseStoreName("busybox:1")).isEqualTo(ImageReference.parse("busybox:1"));
        for (String bad : new String[] {"", "a b", "a,b", "a#b", "MyApp@sha256:xyz"}) {
            assertThatThrownBy(() -> ImageReference.parseStoreName(bad)).as(bad)
                    .isInstanceOf(InvalidReferenceException.class);
        }
    }
}
