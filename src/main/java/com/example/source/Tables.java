package com.example.source;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The five tables of the contract: columns, keys, cursors, page sizes and accepted parameters. */
final class Tables {
  private Tables() {}

  static final class Field {
    final String name;
    final String type;
    final boolean nullable;
    final List<Field> fields; // struct subfields, else empty

    Field(String name, String type, boolean nullable, List<Field> fields) {
      this.name = name;
      this.type = type;
      this.nullable = nullable;
      this.fields = fields;
    }

    static Field of(String name, String type, boolean nullable) {
      return new Field(name, type, nullable, List.of());
    }

    Map<String, Object> descriptor() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", name);
      m.put("type", type);
      m.put("nullable", nullable);
      if ("struct".equals(type)) {
        List<Object> sub = new ArrayList<>();
        for (Field f : fields) {
          sub.add(f.descriptor());
        }
        m.put("fields", sub);
      }
      return m;
    }
  }

  static final class Table {
    final int id;
    final String name;
    final String pk;
    final String cursor; // null for products
    final boolean listsPrimaryKey; // events: identified by event_id but metadata lists no key
    final int maxPageSize;
    final Set<String> params;
    final long stepMicros; // seed cursor step
    final boolean hidden;
    final long defaultRows;
    final String keyPrefix; // null for events (UUID keys)
    final List<Field> fields;

    Table(int id, String name, String pk, String cursor, boolean listsPrimaryKey, int maxPageSize,
        Set<String> params, long stepMicros, boolean hidden, long defaultRows, String keyPrefix,
        List<Field> fields) {
      this.id = id;
      this.name = name;
      this.pk = pk;
      this.cursor = cursor;
      this.listsPrimaryKey = listsPrimaryKey;
      this.maxPageSize = maxPageSize;
      this.params = params;
      this.stepMicros = stepMicros;
      this.hidden = hidden;
      this.defaultRows = defaultRows;
      this.keyPrefix = keyPrefix;
      this.fields = fields;
    }

    int fieldIndex(String fieldName) {
      for (int i = 0; i < fields.size(); i++) {
        if (fields.get(i).name.equals(fieldName)) {
          return i;
        }
      }
      return -1;
    }

    Map<String, Object> metadata() {
      Map<String, Object> m = new LinkedHashMap<>();
      if (listsPrimaryKey) {
        m.put("primary_keys", List.of(pk));
      }
      if (cursor != null) {
        m.put("cursor_field", cursor);
      }
      return m;
    }
  }

  static final long SECOND = 1_000_000L;
  static final long MINUTE = 60 * SECOND;

  static final Table PRODUCTS = new Table(0, "products", "product_id", null, true, 20,
      Set.of("category", "page"), 0, false, 53, "prod_",
      List.of(Field.of("product_id", "string", false), Field.of("name", "string", true),
          Field.of("price", "double", true), Field.of("category", "string", true)));

  static final Table EVENTS = new Table(1, "events", "event_id", "created_at", false, 50,
      Set.of("since", "limit", "page"), SECOND, false, 101, null,
      List.of(Field.of("event_id", "string", false), Field.of("event_type", "string", true),
          Field.of("user_id", "string", true), Field.of("payload", "string", true),
          Field.of("created_at", "timestamp", true)));

  static final Table USERS = new Table(2, "users", "user_id", "updated_at", true, 15,
      Set.of("since", "page"), MINUTE, false, 37, "user_",
      List.of(Field.of("user_id", "string", false), Field.of("email", "string", true),
          Field.of("display_name", "string", true), Field.of("status", "string", true),
          Field.of("updated_at", "timestamp", true)));

  static final Table ORDERS = new Table(3, "orders", "order_id", "updated_at", true, 40,
      Set.of("since", "user_id", "status", "page"), SECOND, false, 103, "order_",
      List.of(Field.of("order_id", "string", false), Field.of("user_id", "string", true),
          Field.of("amount", "double", true), Field.of("status", "string", true),
          Field.of("updated_at", "timestamp", true)));

  static final Table METRICS = new Table(4, "metrics", "metric_id", "updated_at", true, 100,
      Set.of("since", "until", "page"), MINUTE, true, 253, "metric_",
      List.of(Field.of("metric_id", "string", false), Field.of("name", "string", true),
          new Field("value", "struct", true, List.of(Field.of("count", "integer", true),
              Field.of("label", "string", true), Field.of("measure", "double", true))),
          Field.of("host", "string", true), Field.of("updated_at", "timestamp", false)));

  /** Registration order. */
  static final List<Table> ALL = List.of(PRODUCTS, EVENTS, USERS, ORDERS, METRICS);

  static Table byName(String name) {
    for (Table t : ALL) {
      if (t.name.equals(name)) {
        return t;
      }
    }
    return null;
  }
}
