package dev.runcible.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {
    private static final String HEX = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    @Test
    void parsesAndPrintsSha256() throws Exception {
        Digest digest = Digest.parse("sha256:" + HEX);
        assertThat(digest.hex()).isEqualTo(HEX);
        assertThat(digest).hasToString("sha256:" + HEX);
        assertThat(digest.shortHex()).isEqualTo("0123456789ab");
        assertThat(Digest.ofHex(HEX)).isEqualTo(digest);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "sha256", "sha256:", "sha256:abc", "sha512:" + HEX, "SHA256:" + HEX,
            "sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
            "sha256:" + HEX + "0", " sha256:" + HEX})
    void rejectsMalformedDigestsNamingThem(String text) {
        assertThatThrownBy(() -> Digest.parse(text)).isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("'" + text + "'");
    }

    @Test
    void rejectsBareHexOfWrongLength() {
        assertThatThrownBy(() -> Digest.ofHex("abc")).isInstanceOf(InvalidReferenceException.class)
                .hasMessageContaining("64 lowercase hex");
    }
}
