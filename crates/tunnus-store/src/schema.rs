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
        job_title -> Nullable<Text>,
        phone -> Nullable<Text>,
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
        new_email -> Nullable<Text>,
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
diesel::joinable!(refresh_families -> users (user_id));
diesel::joinable!(refresh_tokens -> refresh_families (family_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    terms_documents,
    terms_acceptances,
    action_tokens,
    clients,
    refresh_families,
    refresh_tokens,
    consents
);

diesel::table! {
    clients (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        secret_hash -> Nullable<Text>,
        auth_method -> Text,
        jwks -> Nullable<Text>,
        redirect_uris -> Text,
        post_logout_redirect_uris -> Text,
        backchannel_logout_uri -> Nullable<Text>,
        grant_types -> Text,
        scopes -> Text,
        strict_scopes -> Bool,
        first_party -> Bool,
        id_token_alg -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        required_entitlement -> Nullable<Text>,
        accepts_federated_only -> Bool,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        alg -> Text,
        state -> Text,
        private_jwe -> Text,
        public_jwk -> Text,
        created_at -> Timestamp,
        activated_at -> Nullable<Timestamp>,
        retired_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_families (family_id) {
        family_id -> Text,
        client_id -> Text,
        user_id -> Text,
        scopes -> Text,
        sid -> Nullable<Text>,
        offline -> Bool,
        auth_time -> Timestamp,
        amr -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        family_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    consents (user_id, client_id) {
        user_id -> Text,
        client_id -> Text,
        scopes -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    memberships (organization_id, user_id) {
        organization_id -> Text,
        user_id -> Text,
        kind -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_groups (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    user_group_members (group_id, user_id) {
        group_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    entitlements (name) {
        name -> Text,
        description -> Text,
        content -> Bool,
    }
}

diesel::table! {
    entitlement_grants (id) {
        id -> Text,
        entitlement -> Text,
        organization_id -> Nullable<Text>,
        group_id -> Nullable<Text>,
        user_id -> Nullable<Text>,
        include_external -> Bool,
        valid_from -> Nullable<Timestamp>,
        valid_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    platform_admins (user_id) {
        user_id -> Text,
        granted_at -> Timestamp,
    }
}

diesel::joinable!(memberships -> organizations (organization_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(user_group_members -> user_groups (group_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    memberships,
    user_groups,
    user_group_members,
    entitlements,
    entitlement_grants,
    platform_admins,
    users,
    invitations
);

diesel::table! {
    invitations (id) {
        id -> Text,
        token_hash -> Text,
        organization_id -> Text,
        group_id -> Nullable<Text>,
        kind -> Text,
        email -> Text,
        invited_by -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(invitations -> organizations (organization_id));

diesel::table! {
    legacy_accounts (legacy_id) {
        legacy_id -> Text,
        email -> Text,
        user_id -> Nullable<Text>,
        outcome -> Text,
        reason -> Nullable<Text>,
        organization -> Nullable<Text>,
        membership_kind -> Nullable<Text>,
        role -> Nullable<Text>,
        licenses -> Text,
        email_at -> Nullable<Timestamp>,
        imported_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(legacy_accounts -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(legacy_accounts, users);

diesel::table! {
    federated_identities (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> Text,
        email -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(federated_identities -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(federated_identities, users);
