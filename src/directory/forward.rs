//! The mailbox calls of a [`super::Directory`] that wraps another and changes only some of its
//! calls: ten methods that each pass their arguments to the inner directory, written once.

/// Inside `impl Directory for Wrapper`, the ten mailbox methods (ListAliases … UpdateMailboxQuota),
/// each passing its arguments to the directory in field `$inner` unchanged;
/// `forward_mailbox_calls!(inner, through call)` sends each through `self.call(…)` first (for a
/// wrapper that guards every call the same way).
#[doc(hidden)]
#[macro_export]
macro_rules! forward_mailbox_calls {
    (@send $self:ident, $call:ident) => {
        $call.await
    };
    (@send $self:ident, $call:ident, $guard:ident) => {
        $self.$guard($call).await
    };
    ($inner:ident $(, through $guard:ident)?) => {
        async fn list_aliases(
            &self,
            organization_id: &str,
            entity_id: &str,
        ) -> Result<Vec<String>, $crate::directory::DirectoryError> {
            let call = self.$inner.list_aliases(organization_id, entity_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn list_groups(
            &self,
            organization_id: &str,
        ) -> Result<Vec<$crate::model::live::GroupSummary>, $crate::directory::DirectoryError> {
            let call = self.$inner.list_groups(organization_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn list_groups_for_entity(
            &self,
            organization_id: &str,
            entity_id: &str,
        ) -> Result<Vec<$crate::model::live::GroupMembership>, $crate::directory::DirectoryError>
        {
            let call = self.$inner.list_groups_for_entity(organization_id, entity_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn list_group_members(
            &self,
            organization_id: &str,
            group_id: &str,
        ) -> Result<Vec<$crate::model::live::GroupMember>, $crate::directory::DirectoryError> {
            let call = self.$inner.list_group_members(organization_id, group_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn mailbox_details(
            &self,
            organization_id: &str,
            user_id: &str,
        ) -> Result<$crate::model::live::MailboxDetails, $crate::directory::DirectoryError> {
            let call = self.$inner.mailbox_details(organization_id, user_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn create_alias(
            &self,
            organization_id: &str,
            entity_id: &str,
            alias: &str,
        ) -> Result<(), $crate::directory::DirectoryError> {
            let call = self.$inner.create_alias(organization_id, entity_id, alias);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn delete_alias(
            &self,
            organization_id: &str,
            entity_id: &str,
            alias: &str,
        ) -> Result<(), $crate::directory::DirectoryError> {
            let call = self.$inner.delete_alias(organization_id, entity_id, alias);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn associate_member_to_group(
            &self,
            organization_id: &str,
            group_id: &str,
            member_id: &str,
        ) -> Result<(), $crate::directory::DirectoryError> {
            let call = self.$inner.associate_member_to_group(organization_id, group_id, member_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn disassociate_member_from_group(
            &self,
            organization_id: &str,
            group_id: &str,
            member_id: &str,
        ) -> Result<(), $crate::directory::DirectoryError> {
            let call =
                self.$inner.disassociate_member_from_group(organization_id, group_id, member_id);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }

        async fn update_mailbox_quota(
            &self,
            organization_id: &str,
            user_id: &str,
            quota_mb: u64,
        ) -> Result<(), $crate::directory::DirectoryError> {
            let call = self.$inner.update_mailbox_quota(organization_id, user_id, quota_mb);
            $crate::forward_mailbox_calls!(@send self, call $(, $guard)?)
        }
    };
}
