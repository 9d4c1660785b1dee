//! The one diesel schema both backends share (see `migrations/`).

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        email_verified_at -> Nullable<Timestamp>,
        password_hash -> Nullable<Text>,
        given_name -> Text,
        family_name -> Text,
        country -> Text,
        preferred_language -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    terms_documents (kind, version) {
        kind -> Text,
        version -> Integer,
        url -> Text,
        published_at -> Timestamp,
    }
}

diesel::table! {
    terms_acceptances (user_id, kind, version) {
        user_id -> Text,
        kind -> Text,
        version -> Integer,
        accepted_at -> Timestamp,
    }
}

diesel::table! {
    action_tokens (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        payload -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    kv_entries (key) {
        key -> Text,
        value -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        kind -> Text,
        actor_user_id -> Nullable<Text>,
        subject_user_id -> Nullable<Text>,
        ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::joinable!(terms_acceptances -> users (user_id));
diesel::joinable!(action_tokens -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(users, terms_documents, terms_acceptances, action_tokens);
