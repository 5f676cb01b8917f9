package com.example.source;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON in and out (Jackson). Records are JSON-shaped maps: timestamps already ISO strings. */
final class Json {
  private Json() {}

  static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  static byte[] write(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] error(String message) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("error", message);
    return write(m);
  }

  /** Parses a request body; 400 naming the problem if it is not valid JSON. */
  static JsonNode parse(byte[] body) {
    if (body.length == 0) {
      throw new ApiError(400, "malformed JSON: empty request body");
    }
    try {
      JsonNode n = MAPPER.readTree(body);
      if (n == null || n.isMissingNode()) {
        throw new ApiError(400, "malformed JSON: empty request body");
      }
      return n;
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      int nl = msg.indexOf('\n');
      throw new ApiError(400, "malformed JSON: " + (nl < 0 ? msg : msg.substring(0, nl)));
    }
  }
}
