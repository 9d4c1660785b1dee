# Tunnus — English catalogue. Every key here must exist in every language
# (a test checks). Keep placeholders ({ $name }) as they are when translating.

product-name = Tunnus
lang-name = English

## Layout
nav-sign-in = Sign in
nav-create-account = Create account
nav-sign-out = Sign out
nav-signed-in-as = Signed in as { $email }
footer-terms = Terms and conditions
footer-privacy = Privacy policy
skip-to-content = Skip to content

## Common
sign-in = Sign in
email = Email
password = Password
given-name = First name
family-name = Last name
country = Country
choose-country = Choose your country
continue = Continue
back-to-sign-in = Back to sign in
form-has-problems = Please correct the highlighted fields.
required = required

## Sign in
sign-in-title = Sign in to your Tunnus account
sign-in-intro = One account for every service.
forgot-password-link = Forgot password?
no-account = No account yet?
create-new-account = Create new account
sign-in-wrong = The email or password is not correct.
sign-in-wrong-or-unverified = The email or password is not correct, or the account has not been verified yet. If you created an account recently, open the link in the email we sent you.
sign-in-unverified = This account has not been verified yet. Open the link in the email we sent you to set your password.
sign-in-disabled = This account has been disabled. Contact support.
sign-in-no-password = This account has no password yet. Use “Forgot password?” to set one.
resend-link = Send the link again
resend-sent = If the account is still waiting for verification, we sent a new link to { $email }.
signed-in-title = You are signed in
signed-in-intro = Signed in as { $name } ({ $email }).

## Sign up
sign-up-title = Create your Tunnus account
sign-up-intro = We will send you an email with a link to set your password. The link also verifies your address.
accept-terms = I accept the <a href="{ $url }">Terms and conditions</a>
accept-privacy = I accept the <a href="{ $url }">Privacy policy</a>
create-account = Create account
check-email-title = Check your email
check-email-body = We sent a link to { $email }. Open it to set your password and finish creating your account. The link is valid for { $hours } hours.
already-registered = An account with this email already exists. Sign in, or reset your password if you have forgotten it.

## Field problems
email-empty = Enter your email address.
email-too-long = The email address is too long.
email-shape = Enter an email address in the form name@example.com.
email-local-part = The part before @ contains characters that are not allowed.
email-domain = The part after @ is not a valid domain.
given-name-missing = Enter your first name.
family-name-missing = Enter your last name.
name-too-long = Names can be at most 100 characters long.
name-control-characters = Names cannot contain control characters.
country-unknown = Choose your country from the list.
terms-not-accepted = You must accept the Terms and conditions.
privacy-not-accepted = You must accept the Privacy policy.

## Passwords
set-password-title = Set your password
set-password-intro = Choose a password for { $email }.
new-password = New password
confirm-password = Repeat the password
save-password = Save password
password-rules-heading = Your password must
password-min-length = be at least { $min } characters long
password-max-length = be at most { $max } characters long
password-digit = contain a digit (0-9)
password-mixed-case = contain both a lowercase and an uppercase letter (a-z, A-Z)
password-special = contain a special character: { $chars }
password-allowed-characters = use only letters a-z and A-Z, digits and the special characters { $chars }
password-not-common = not be a commonly used password
password-not-email = not contain the part of your email address before @
password-problems = The password does not meet these rules:
password-too-short = It is shorter than { $min } characters.
password-too-long = It is longer than { $max } characters.
password-missing-digit = It has no digit (0-9).
password-missing-lowercase = It has no lowercase letter (a-z).
password-missing-uppercase = It has no uppercase letter (A-Z).
password-missing-special = It has no special character ({ $chars }).
password-forbidden-character = The character “{ $char }” is not allowed.
password-common = It is too common; choose something less predictable.
password-contains-email = It contains your email address.
password-mismatch = The two passwords are not the same.
password-saved-title = Your password is saved
password-saved-body = You are now signed in.

## Links
link-invalid-title = This link cannot be used
link-unknown = The link is not valid. Check that you copied the whole address from the email.
link-expired = The link has expired. Request a new one below.
link-used = The link has already been used. Links work only once.
request-new-link = Request a new link

## Forgot password
forgot-title = Forgot your password?
forgot-intro = Enter your email address and we will send you a link to set a new password.
send-link = Send link
forgot-unknown = Sorry, we didn't recognise this user. Please enter a valid Email address.
forgot-sent = We sent a link to { $email }. Open it to set a new password.
forgot-sent-generic = If an account exists for { $email }, we sent it a link to set a new password.

## Sign out
sign-out-title = Sign out
sign-out-question = Do you want to sign out of Tunnus?
signed-out-title = You are signed out
signed-out-body = You have been signed out of Tunnus.

## Errors
error-title = Something went wrong
error-request-id = Reference: { $id }
error-bad-request = The request could not be understood. Go back and try again.
error-too-large = What you sent is too large.
error-csrf = This form has expired or was not sent from this site. Go back, reload the page and try again.
error-throttled = Too many attempts. Wait a moment and try again.
error-not-found = The page does not exist.
error-unavailable = The service is temporarily unavailable. Try again in a moment.
error-internal = An unexpected error occurred. It has been logged.

## Legal
terms-title = Terms and conditions
privacy-title = Privacy policy
legal-version = Version { $version }
terms-body = These are the terms and conditions of the Tunnus identity service. Operators replace this text with their own.
privacy-body = Tunnus stores your name, country and email address to identify you to the services you use. Operators replace this text with their own.

## Development outbox
outbox-title = Outbox (development)
outbox-intro = Emails Tunnus has sent. This page exists only while no mail server is configured.
outbox-empty = No emails yet.
outbox-to = To
outbox-subject = Subject
outbox-links = Links
outbox-status = Status
outbox-sent = sent
outbox-waiting = waiting

## Emails
email-greeting = Hello { $name },
email-signature = — Tunnus
email-ignore = If you did not ask for this, you can ignore this email.
email-valid-for = The link is valid for { $hours } hours and works once.
email-set-password-subject = Set your Tunnus password
email-set-password-body = Welcome to Tunnus. Open the link below to set your password. This also verifies your email address.
email-set-password-button = Set your password
email-reset-password-subject = Reset your Tunnus password
email-reset-password-body = We received a request to reset the password of your Tunnus account. Open the link below to choose a new password.
email-reset-password-button = Choose a new password
email-account-exists-subject = Your Tunnus account
email-account-exists-body = Someone tried to create a Tunnus account with this email address, but you already have one. If it was you, sign in, or reset your password if you have forgotten it.
email-account-exists-button = Sign in

## Authorization
authorize-error-title = This sign-in request cannot be used
authorize-error-body = The application that sent you here made a request Tunnus cannot accept ({ $error }: { $description }). Go back to the application and try again.
authorize-expired-title = This sign-in request has expired
authorize-expired-body = Go back to the application and start signing in again.
consent-title = Allow access?
consent-intro = would like to:
consent-allow = Allow
consent-deny = Deny
consent-revocable = Tunnus remembers your answer for this application; it asks again if the application wants more.
scope-openid = know who you are (your Tunnus identifier)
scope-profile = see your name and language
scope-email = see your email address
scope-offline-access = stay signed in and act for you while you are away
logout-error-title = This sign-out request cannot be used
scope-organization = see your organization, your role in it and your groups
scope-entitlements = see which licenses you hold
access-missing-title = You do not have access to { $client }
access-missing-body = { $client } requires the “{ $entitlement }” license, which your account does not have.
access-missing-admins = Your organization's administrators can grant it: { $admins }.
access-missing-no-admins = You are not a member of an organization that holds this license. Ask the organization that gives you access to invite you.
access-missing-back = Return to { $client }
email-invitation-subject = Join { $org } on Tunnus
email-invitation-body = You have been invited to join { $org }. Open the link below, sign in (or create your Tunnus account with this email address) and accept or decline. The invitation also waits for you on your profile page.
email-invitation-button = See the invitation
email-legacy-imported-subject = Your account is now a Tunnus identity
email-legacy-imported-body = Your account from our previous account service has been moved to Tunnus, our new sign-in service. Your organization and licenses came along. Open the link below to set your Tunnus password; it also confirms your email address.
email-legacy-imported-button = Set your password
email-legacy-imported-password-subject = Your account is now a Tunnus identity
email-legacy-imported-password-body = Your account from our previous account service has been moved to Tunnus, our new sign-in service. Your organization and licenses came along, and so did your password: sign in with your email address and your current password.
email-legacy-imported-password-button = Sign in

## Profile and invitations
profile-title = Your profile
profile-company = Company
profile-no-company = No company
profile-external = External member of
profile-groups = Groups
profile-licenses = Licenses
profile-none = None
profile-invitations = Invitations
profile-no-invitations = No pending invitations.
profile-admin-tool = Access Admin Tool
invitation-title = Invitation to { $org }
invitation-internal = { $org } invites you to join as an employee. { $org } becomes the Company on your profile.
invitation-external = { $org } invites you to join as an external member.
invitation-group = { $org } invites you to join its group “{ $group }”.
invitation-leave-warning = You are an employee of { $current }. Accepting means you leave { $current }.
invitation-confirm-leave = I understand that I will leave { $current }
invitation-accept = Accept
invitation-decline = Decline
invitation-wrong-account = This invitation was sent to { $invited }, but you are signed in as { $current }. Sign out and sign in as { $invited } (or create an account with that address) to answer it.
invitation-accepted = You joined { $org }.
invitation-declined = You declined the invitation to { $org }.
invitation-unusable = This invitation can no longer be used: { $status }.
invitation-status-expired = it has expired
invitation-status-accepted = it was already accepted
invitation-status-declined = it was declined
invitation-status-revoked = it was withdrawn by the organization
invitation-must-confirm = Please confirm that you will leave { $current }.

## Admin tool
admin-title = Admin tool
admin-organizations = Organizations
admin-members = Members
admin-member-email = Email
admin-member-kind = Membership
admin-member-role = Role
admin-invite = Invite people
admin-invite-help = Paste email addresses, separated by commas or new lines.
admin-invite-kind = Invite as
admin-invite-kind-internal = Employees (internal members)
admin-invite-kind-external = External members
admin-invite-group = Group (for group invitations)
admin-invite-send = Send invitations
admin-invite-report = Invitations sent
admin-invited = Invited ({ $count })
admin-invalid = Not valid ({ $count })
admin-duplicates = Given twice ({ $count })
admin-already = Already members ({ $count })
admin-pending = Already invited ({ $count })
admin-forbidden = You are not an administrator of this organization.
error-forbidden = You are not allowed to do this.
admin-make-admin = Make admin
admin-make-member = Make member
admin-remove = Remove
admin-pending-invitations = Pending invitations
admin-revoke = Revoke
profile-leave = Leave organization
admin-search = Search
profile-language = Language
profile-save = Save
device-title = Sign in on a device
device-intro = Enter the code your device shows.
device-code = Code
device-code-unknown = This code is not valid or has expired. Check the code on your device.
device-approved = Done. Your device is now signed in; you can close this page.
device-denied = The device was not signed in.
admin-audit = Audit log
admin-resend = Resend
admin-new-group = New group name
admin-create-group = Create group
admin-clients = OIDC clients
admin-clients-help = Relying parties registered with this Tunnus. Register and change them with the tunnus client command; secrets are never shown here.
admin-client-id = Client id
admin-client-name = Name
admin-client-kind = Kind
admin-client-redirects = Redirect URIs
admin-client-grants = Grants
admin-client-requires = Requires
admin-new-org = New organization name
admin-create-org = Create organization
admin-license-entitlement = Entitlement (maintenance = maintenance contract)
admin-license-until = Valid until (optional)
admin-license-external = Also for external members
admin-license-grant = Grant license
admin-license-revoke = End license
admin-license-bad-date = The end date must be a date in the future (YYYY-MM-DD).
error-org-name = An organization name is 1–100 characters, without control characters.
error-org-exists = An organization with that name exists already.
error-no-license = The organization holds no such license.
profile-saved = Your changes are saved.
profile-session-ended = The session is signed out.
profile-details = Personal details
job-title = Job title
optional = (optional)
phone = Phone
phone-hint = with country code, e.g. +358 40 123 4567
job-title-invalid = A job title can be at most 100 characters, without control characters.
phone-invalid = Give the phone number with its country code, e.g. +358 40 123 4567 (7–15 digits).
password-current = Your current password
password-confirm-wrong = The password is not right.
confirm-by-sign-in = Your identity has no password: a sign-in within the last { $minutes } minutes confirms this. Sign in again with:
confirm-sign-in-again = Your last sign-in was too long ago to confirm this. Sign in again, then try once more.
email-change-title = Change email address
email-change-help = We send a confirmation link to the new address. Until you follow it, you keep signing in with your current address.
email-change-new = New email address
email-change-send = Send confirmation link
email-change-sent = We sent a confirmation link to { $email }. Your address changes when you follow it.
email-change-same = That is already your address.
email-change-taken = That address belongs to another Tunnus identity.
email-change-link-expired = This confirmation link has expired. Ask for a new one on your profile page.
email-change-link-used = This confirmation link has already been used.
email-change-link-unknown = This confirmation link is not valid. Ask for a new one on your profile page.
email-change-other-account = This link belongs to another Tunnus identity than the one signed in here. Sign out first, then open the link again.
email-change-confirm-help = Make { $email } the email address you sign in with?
email-change-confirm = Change my email address
email-change-done = Your email address is now { $email }. Use it to sign in from now on.
profile-sessions = Where you are signed in
profile-session-device = Browser
profile-session-ip = IP address
profile-session-last-seen = Last active
profile-session-this = this browser
profile-sign-out-everywhere = Sign out everywhere
profile-your-data = Your data
profile-download-data = Download my data (JSON)
delete-title = Delete my account
delete-help = This removes your identity and personal data, signs you out everywhere and ends every service's access. Memberships and licenses go with it. It cannot be undone.
delete-confirm = I understand that this cannot be undone.
delete-button = Delete my account
delete-confirm-missing = Tick the box to confirm that you want to delete your account.
delete-done-title = Your account is deleted
delete-done-body = Your Tunnus identity and personal data have been removed, and you are signed out everywhere.
terms-accept-title = Updated terms
terms-accept-help = We have published new versions of the documents below. Please read and accept them to continue.
terms-accept-terms = Terms of service, version { $version }
terms-accept-privacy = Privacy policy, version { $version }
terms-accept-check = I have read and accept these documents.
terms-accept-button = Accept and continue
terms-accept-missing = Tick the box to accept the documents, or close this page to stop.
terms-accept-changed = A newer version was published while this page was open. Please review it.
email-confirm-email-change-subject = Confirm your new Tunnus email address
email-confirm-email-change-body = You asked to sign in to Tunnus with this email address from now on. Follow the link below to confirm it.
email-confirm-email-change-button = Confirm email address
email-email-change-notice-subject = Your Tunnus email address is about to change
email-email-change-notice-body = Someone signed in to your Tunnus identity asked to change its email address. The change happens only if the link sent to the new address is followed. If this was not you, change your password now.
email-email-change-notice-button = Change my password
profile-session-unknown = an unknown browser

## Upstream identity providers ("Sign in with …")
sign-in-with = Sign in with { $provider }
sign-in-or = Or sign in with an account you already have:
upstream-error-title = Sign-in did not work
upstream-unknown = There is no such sign-in option.
upstream-unreachable = The other service cannot be reached just now. Try again in a moment, or sign in with your email and password.
upstream-bad-state = This sign-in request is unknown, has expired or was already used. Start again from the sign-in page.
upstream-refused = The other service did not sign you in (perhaps you cancelled). Start again from the sign-in page.
upstream-invalid = The other service's answer could not be verified. Start again from the sign-in page.
upstream-unverified-email = The other service has not verified your email address, so it cannot be used to sign in here. Verify the address there, or create a Tunnus account with it.
upstream-linked-elsewhere = That account is already linked to another Tunnus identity.
upstream-prove-title = Is this identity yours?
upstream-prove-intro = A Tunnus identity with the address { $email } already exists. To link your sign-in to it, prove that it is yours: enter its password, or have a confirmation link emailed to that address.
upstream-prove-password = Link with my password
upstream-prove-email = Email me a confirmation link
upstream-prove-no-password = This identity has no password yet. Use the emailed confirmation link instead.
upstream-proof-expired = This confirmation has expired or was already used. Start again from the sign-in page.
upstream-proof-sent = We sent a confirmation link to the address. Open it within an hour to link the accounts.
upstream-linked-title = Accounts linked
upstream-linked-body = You can now sign in with { $provider }.
upstream-unlink-refused-title = This link cannot be removed
upstream-unlink-refused-body = It is your only way to sign in. Set a password (Forgot password? on the sign-in page) or link another account first.
back-to-profile = Back to your profile
profile-linked = Linked sign-in accounts
profile-link = Link { $provider }
profile-unlink = Unlink
profile-unlink-last = (your only way to sign in)
federated-refused-title = { $client } needs a Tunnus password
federated-refused-body = You signed in with an account from another service. { $client } accepts only identities that also have a Tunnus password of their own.
federated-refused-remedy = Set a password with "Forgot password?": we email you a link. Afterwards the same identity works in every service.
email-confirm-upstream-link-subject = Link your { $org } sign-in to Tunnus
email-confirm-upstream-link-body = Someone signed in with { $org } using this email address and asked to link it to your Tunnus identity. Open the link below to allow it. If this was not you, ignore this email: nothing changes.
email-confirm-upstream-link-button = Link the accounts
