ALTER TABLE clients DROP COLUMN accepts_federated_only;
DROP TABLE federated_identities;
